// Telegram as a place to start and continue work: plain text and /new start routed tasks, a
// reply to a task's message is a follow-up, and strangers start nothing. A real hub with the
// router and the fake claude; the fake Telegram Bot API records every call.
import { afterEach, describe, expect, it } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import { TASK_TEXT_LIMIT } from "../../client/intake.ts";
import { createTelegramAdapter, type TelegramAdapter } from "../../client/telegram/adapter.ts";
import type { Task } from "../../shared/schemas.ts";
import { type FakeTelegram, startFakeTelegram } from "../fixtures/fake-telegram.ts";
import { hubClient, type TestHub, until } from "../helpers/hub.ts";
import { cleanupRouterHubs, routerHub } from "../helpers/router-hub.ts";

const CHAT = 1001;
const STRANGER = 666;

let fake: FakeTelegram;
let adapter: TelegramAdapter | null = null;
let hub: TestHub;
let adapterHub: HubClient;
let logged: string[];

afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  await fake?.close();
  await cleanupRouterHubs();
});

async function setUp(modes: Record<string, string> = {}) {
  ({ hub } = await routerHub({ modes }));
  fake = await startFakeTelegram();
  logged = [];
  adapterHub = hubClient(hub, { channel: "telegram" });
  const log = (line: string) => logged.push(line);
  adapter = createTelegramAdapter({
    hub: adapterHub,
    token: fake.token,
    chatIds: [CHAT],
    apiRoot: fake.apiRoot,
    minEditIntervalMs: 0,
    pollTimeoutSeconds: 1,
    log: { info: log, warn: log, error: log },
  });
  await adapter.start();
}

const allTasks = (): Task[] => [
  ...hub.taskContext.getContext().activeTasks,
  ...hub.taskContext.getContext().recentCompleted,
];
const sends = () => fake.chatCalls().filter((c) => c.method === "sendMessage");

async function handled(updateId: number) {
  await until(() => fake.handled(updateId), 5000, `update ${updateId} to be handled`);
}

describe("Telegram intake", () => {
  it("plain text from an allowed chat starts a routed task from telegram whose description is the text, and the task gets its message", async () => {
    await setUp();
    await handled(fake.sendText(CHAT, "Summarise the quarterly report"));
    await until(() => allTasks().length === 1, 5000, "the routed task");
    const [task] = allTasks();
    expect(task).toMatchObject({ description: "Summarise the quarterly report", startedFrom: "telegram" });
    expect(task?.taskId).toMatch(/^route_/);
    expect(task?.backend).toBe("claude");
    await until(
      () => sends().some((c) => String(c.params.text).includes(`id: ${task?.taskId}`)),
      5000,
      "the task's message in the chat",
    );
    expect(hub.taskContext.getContext().channelHistory.telegram?.lastTaskId).toBe(task?.taskId);
  });

  it("/new <text> starts a task just as plain text does; /new alone asks what the task is", async () => {
    await setUp();
    await handled(fake.sendText(CHAT, "/new Translate the letter into French"));
    await until(() => allTasks().length === 1, 5000, "the routed task");
    expect(allTasks()[0]).toMatchObject({ description: "Translate the letter into French", startedFrom: "telegram" });

    await handled(fake.sendText(CHAT, "/new"));
    expect(String(sends().at(-1)?.params.text)).toBe(
      "What should the task do? Send /new followed by the task, e.g. /new summarise the report.",
    );
    expect(allTasks()).toHaveLength(1);
  });

  it("a text over the task limit starts nothing and the reply names the limit", async () => {
    await setUp();
    const updateId = fake.sendText(CHAT, "x".repeat(TASK_TEXT_LIMIT + 1));
    await handled(updateId);
    const reply = sends().at(-1);
    expect(String(reply?.params.text)).toBe(
      `Could not start the task: a task's text may be at most ${TASK_TEXT_LIMIT} characters (this one has ${TASK_TEXT_LIMIT + 1}); shorten it, or start with the gist and add the rest as a follow-up.`,
    );
    expect(reply?.params.reply_parameters).toMatchObject({ message_id: expect.any(Number) });
    expect(allTasks()).toEqual([]);
  });

  it("an unknown command starts nothing and gets the list of what the bot understands", async () => {
    await setUp();
    await handled(fake.sendText(CHAT, "/frobnicate now"));
    expect(String(sends().at(-1)?.params.text)).toMatch(/^Send any text to start a task, or reply to a task's message/);
    expect(allTasks()).toEqual([]);
  });

  it("text from a chat that is not allowed starts nothing, gets no answer, and is logged once however often it comes", async () => {
    await setUp();
    await handled(fake.sendText(STRANGER, "Delete everything"));
    await handled(fake.sendText(STRANGER, "Delete everything, now"));
    expect(allTasks()).toEqual([]);
    expect(fake.chatCalls().filter((c) => c.params.chat_id === STRANGER)).toEqual([]);
    expect(logged.filter((line) => line.includes(`chat ${STRANGER}`))).toHaveLength(1);
    expect(hub.taskContext.getContext().channelHistory.telegram).toBeUndefined();
  });
});
