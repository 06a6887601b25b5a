import { describe, expect, it } from "vitest";
import { type TelegramAccess, telegramAccess } from "../../client/telegram/who-may-act.ts";

const PRIVATE = 1001;
const GROUP = -2002;
const OPEN: TelegramAccess = { chatIds: [PRIVATE, GROUP], userIds: [] };
const LIMITED: TelegramAccess = { chatIds: [PRIVATE, GROUP], userIds: [7] };

describe("whose Telegram updates the bot acts on", () => {
  it.each<[string, TelegramAccess, Parameters<typeof telegramAccess>[1], ReturnType<typeof telegramAccess>]>([
    ["a chat not in chatIds", OPEN, { chatId: 666, chatType: "private", userId: 666 }, { ok: false, refused: "chat" }],
    ["an update without a chat", OPEN, { userId: 7 }, { ok: false, refused: "chat" }],
    [
      "anyone in a configured group, with no user list",
      OPEN,
      { chatId: GROUP, chatType: "group", userId: 8 },
      { ok: true },
    ],
    [
      "a listed person in a configured group",
      LIMITED,
      { chatId: GROUP, chatType: "supergroup", userId: 7 },
      { ok: true },
    ],
    [
      "an unlisted person in a configured group",
      LIMITED,
      { chatId: GROUP, chatType: "group", userId: 8 },
      { ok: false, refused: "user" },
    ],
    [
      "the person of a configured private chat, not listed",
      LIMITED,
      { chatId: PRIVATE, chatType: "private", userId: PRIVATE },
      { ok: true },
    ],
    [
      "someone else claiming a private chat",
      LIMITED,
      { chatId: PRIVATE, chatType: "private", userId: 8 },
      { ok: false, refused: "user" },
    ],
    ["an update without a sender", OPEN, { chatId: GROUP, chatType: "group" }, { ok: false, refused: "user" }],
  ])("%s", (_, access, origin, expected) => {
    expect(telegramAccess(access, origin)).toEqual(expected);
  });
});
