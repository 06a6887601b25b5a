// Whose Telegram updates the bot acts on: only from the configured chats, and, when
// telegram.userIds is set, only from those people — but a private chat listed in chatIds is its
// own person's (in a private chat the chat id is the user's id). Pure, table-tested in
// test/unit/telegram-access.test.ts; the adapter ignores (and logs once) everything else.

export interface TelegramAccess {
  chatIds: number[];
  /** When not empty, only these user ids may act in a configured group chat. */
  userIds: number[];
}

/** Where an update came from, as Telegram says (a field may be missing). */
export interface TelegramOrigin {
  chatId?: number | undefined;
  chatType?: string | undefined;
  userId?: number | undefined;
}

export type TelegramAccessDecision = { ok: true } | { ok: false; refused: "chat" | "user" };

export function telegramAccess(access: TelegramAccess, origin: TelegramOrigin): TelegramAccessDecision {
  if (origin.chatId === undefined || !access.chatIds.includes(origin.chatId)) return { ok: false, refused: "chat" };
  if (origin.userId === undefined) return { ok: false, refused: "user" };
  // A private chat is one person's: its id is theirs, so listing the chat lists them.
  if (origin.chatType === "private") {
    return origin.userId === origin.chatId ? { ok: true } : { ok: false, refused: "user" };
  }
  if (access.userIds.length === 0 || access.userIds.includes(origin.userId)) return { ok: true };
  return { ok: false, refused: "user" };
}
