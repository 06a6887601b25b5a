import { afterEach, describe, expect, it } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import { TASK_TEXT_LIMIT } from "../../client/intake.ts";
import { createTelegramAdapter, type TelegramAdapter } from "../../client/telegram/adapter.ts";
import type { Task } from "../../shared/schemas.ts";
import { type FakeTelegram, startFakeTelegram } from "../fixtures/fake-telegram.ts";
import { hubClient, type TestHub } from "../helpers/hub.ts";
import {
  cleanupRouterHubs,
  finishedTask,
  routerHub,
  runCalls,
  allTasks as tasksOf,
  workspaceFolder,
} from "../helpers/router-hub.ts";

const CHAT = 1001;
const STRANGER = 666;

let fake: FakeTelegram;
let adapter: TelegramAdapter | null = null;
let hub: TestHub;
let adapterHub: HubClient;
let logged: string[];
let cliLog: string;

afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  await fake?.close();
  await cleanupRouterHubs();
});

async function setUp(modes: Record<string, string> = {}, workspaces?: Record<string, unknown>) {
  ({ hub, log: cliLog } = await routerHub({ modes, ...(workspaces ? { workspaces } : {}) }));
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

const allTasks = (): Task[] => tasksOf(hub);
const sends = () => fake.chatCalls().filter((c) => c.method === "sendMessage");

async function handled(updateId: number) {
  await expect
    .poll(() => fake.handled(updateId), { timeout: 5000, message: `update ${updateId} to be handled` })
    .toBeTruthy();
}

describe("Telegram intake", () => {
  it("plain text from an allowed chat starts a routed task from telegram whose description is the text, and the task gets its message", async () => {
    await setUp();
    await handled(fake.sendText(CHAT, "Summarise the quarterly report"));
    await expect.poll(() => allTasks().length === 1, { timeout: 5000, message: "the routed task" }).toBeTruthy();
    const [task] = allTasks();
    expect(task).toMatchObject({ description: "Summarise the quarterly report", startedFrom: "telegram" });
    expect(task?.taskId).toMatch(/^route_/);
    expect(task?.backend).toBe("claude");
    await expect
      .poll(() => sends().some((c) => String(c.params.text).includes(`id: ${task?.taskId}`)), {
        timeout: 5000,
        message: "the task's message in the chat",
      })
      .toBeTruthy();
    expect(hub.taskContext.getContext().channelHistory.telegram?.lastTaskId).toBe(task?.taskId);
  });

  it("/new <text> starts a task just as plain text does; /new alone asks what the task is", async () => {
    await setUp();
    await handled(fake.sendText(CHAT, "/new Translate the letter into French"));
    await expect.poll(() => allTasks().length === 1, { timeout: 5000, message: "the routed task" }).toBeTruthy();
    expect(allTasks()[0]).toMatchObject({ description: "Translate the letter into French", startedFrom: "telegram" });

    await handled(fake.sendText(CHAT, "/new"));
    // The prompt, whether or not the first task's answer has been sent after it.
    const prompt = sends().find((c) => String(c.params.text).startsWith("What should the task do?"));
    expect(String(prompt?.params.text)).toBe(
      "What should the task do? Send /new followed by the task, e.g. /new summarise the report, or /new in workspace site: fix the failing test.",
    );
    expect(allTasks()).toHaveLength(1);
  });

  it("/new in workspace NAME: <text> starts the task in that workspace (the CLI runs in its folder) and the reply names it", async () => {
    const site = await workspaceFolder("site");
    await setUp({}, { site: { path: site } });
    const updateId = fake.sendText(CHAT, "/new in workspace site: fix the failing test");
    await handled(updateId);
    await expect.poll(() => allTasks().length === 1, { timeout: 5000, message: "the routed task" }).toBeTruthy();
    const [task] = allTasks();
    expect(task).toMatchObject({ description: "fix the failing test", startedFrom: "telegram", workspace: "site" });
    await expect
      .poll(() => sends().some((c) => String(c.params.text).includes("in workspace site")), {
        timeout: 5000,
        message: "the started reply",
      })
      .toBeTruthy();
    const reply = sends().find((c) => String(c.params.text).includes("in workspace site"));
    expect(reply?.params.text).toBe(`Started your task “fix the failing test” in workspace site (${task?.taskId}).`);
    await finishedTask(hub, task?.taskId as string);
    const [call] = await runCalls(cliLog);
    expect(call?.cwd).toBe(site);
  });

  it("a workspace the hub does not have starts nothing, and the reply lists the configured ones", async () => {
    const site = await workspaceFolder("site");
    await setUp({}, { site: { path: site } });
    const version = hub.taskContext.document.version;
    await handled(fake.sendText(CHAT, "in workspace attic: sweep up"));
    const reply = sends().at(-1);
    expect(String(reply?.params.text)).toMatch(
      /^Could not start the task: .*no workspace named "attic" \(configured: site; see GET \/api\/workspaces\)/,
    );
    expect(reply?.params.reply_parameters).toMatchObject({ message_id: expect.any(Number) });
    expect(allTasks()).toEqual([]);
    expect(hub.taskContext.document.version).toBe(version);

    await handled(fake.sendText(CHAT, "/new in workspace site:"));
    expect(String(sends().at(-1)?.params.text)).toBe(
      "What should the task do in workspace site? Send /new in workspace site: followed by the task.",
    );
    expect(allTasks()).toEqual([]);
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

/** The task's message in CHAT: the bot's first message naming the task's id. */
async function taskMessageOf(taskId: string): Promise<number> {
  await expect
    .poll(() => adapter?.messages.refOf(taskId, String(CHAT)) != null, { timeout: 5000, message: "the task's message" })
    .toBeTruthy();
  return adapter?.messages.refOf(taskId, String(CHAT)) as number;
}

async function routedTask(text: string): Promise<Task> {
  await handled(fake.sendText(CHAT, text));
  await expect
    .poll(() => allTasks().some((t) => t.description === text), { timeout: 5000, message: "the routed task" })
    .toBeTruthy();
  return allTasks().find((t) => t.description === text) as Task;
}

const finished = (taskId: string) =>
  hub.taskContext.getContext().recentCompleted.find((t) => t.taskId === taskId && t.status === "complete");

const answersTo = (messageId: number) =>
  [...fake.messages.values()].filter((m) => m.replyTo === messageId && m.chatId === CHAT);

describe("Telegram answers and follow-ups", () => {
  it("when a step finishes, its answer goes to the chat as a reply to the task's message", async () => {
    await setUp();
    const task = await routedTask("Summarise the quarterly report");
    const messageId = await taskMessageOf(task.taskId);
    await expect
      .poll(() => finished(task.taskId) !== undefined, { timeout: 10_000, message: "the task to finish" })
      .toBeTruthy();
    await expect.poll(() => answersTo(messageId).length === 1, { timeout: 5000, message: "the answer" }).toBeTruthy();
    const [answer] = answersTo(messageId);
    expect(answer?.text).toBe("Your task “Summarise the quarterly report”:\n\necho: Summarise the quarterly report");
    expect(answer?.document).toBeNull();
  });

  it("a long answer comes as its first part in text and the whole as a .md document, both replying to the task's message", async () => {
    const long = `${"All the figures line up with the ledger. ".repeat(150)}THE END`;
    await setUp({ FAKE_CLI_REPLY: long });
    const task = await routedTask("Write the long report");
    const messageId = await taskMessageOf(task.taskId);
    await expect
      .poll(() => answersTo(messageId).length === 2, { timeout: 10_000, message: "the answer and its document" })
      .toBeTruthy();
    const [text, document] = answersTo(messageId);
    expect(text?.text.length).toBeLessThanOrEqual(4096);
    expect(text?.text.startsWith("Your task “Write the long report”:\n\nAll the figures line up")).toBe(true);
    expect(text?.text.endsWith("…")).toBe(true);
    expect(document?.document).toEqual({
      fileName: `${task.taskId}-step-1.md`,
      mimeType: expect.any(String),
      content: long,
    });
    expect(document?.caption).toBe("Your task “Write the long report”: the whole answer");
    expect(fake.calls.filter((c) => c.method === "sendDocument")).toHaveLength(1);
  });

  it("a reply to the task's message is a follow-up in the same task: acknowledged with its step, run, and answered as a reply", async () => {
    await setUp();
    const task = await routedTask("Gather the 2022 invoices");
    const messageId = await taskMessageOf(task.taskId);
    await expect
      .poll(() => answersTo(messageId).length === 1, { timeout: 10_000, message: "the first answer" })
      .toBeTruthy();

    const followUp = fake.sendText(CHAT, "and also check the 2023 files", { replyTo: messageId });
    await handled(followUp);
    // The acknowledgement, whether or not the step's answer (a reply too) has already followed it.
    const ack = sends().find((c) => String(c.params.text).startsWith("Added to your task"));
    expect(ack?.params.text).toBe("Added to your task “Gather the 2022 invoices” as step 2.");
    expect(ack?.params.reply_parameters).toMatchObject({ message_id: expect.any(Number) });

    await expect
      .poll(() => answersTo(messageId).length === 2, { timeout: 10_000, message: "the follow-up's answer" })
      .toBeTruthy();
    expect(answersTo(messageId)[1]?.text).toBe(
      "Your task “Gather the 2022 invoices”, step 2 (and also check the 2023 files):\n\necho: and also check the 2023 files",
    );
    const transcript = await adapterHub.getTranscript(task.taskId);
    expect(transcript.entries.map((e) => [e.step, e.from])).toEqual([
      [1, null],
      [2, "telegram"],
    ]);
    expect(allTasks()).toHaveLength(1);
    expect(hub.taskContext.getContext().channelHistory.telegram?.lastTaskId).toBe(task.taskId);
  });

  it("a reply to an answer continues its task too", async () => {
    await setUp();
    const task = await routedTask("Draft the letter");
    const messageId = await taskMessageOf(task.taskId);
    await expect.poll(() => answersTo(messageId).length === 1, { timeout: 10_000, message: "the answer" }).toBeTruthy();
    const answerId = answersTo(messageId)[0]?.messageId as number;
    await handled(fake.sendText(CHAT, "make it shorter", { replyTo: answerId }));
    // The acknowledgement, whether or not the step's answer has already followed it.
    const ack = sends().find((c) => String(c.params.text).startsWith("Added to your task"));
    expect(ack?.params.text).toBe("Added to your task “Draft the letter” as step 2.");
  });

  it("a follow-up the hub refuses (a task another publisher runs) is answered with the hub's reason and changes nothing", async () => {
    await setUp();
    const external = await hub.taskContext.addTask({ description: "Nightly backup", startedFrom: "cli" });
    const messageId = await taskMessageOf(external.taskId);
    await handled(fake.sendText(CHAT, "skip the photos", { replyTo: messageId }));
    expect(String(sends().at(-1)?.params.text)).toMatch(
      /^Could not add that to the task: .*run by another publisher, not the built-in router/,
    );
    expect(allTasks()).toHaveLength(1);
    expect(allTasks()[0]?.totalSteps).toBe(0);
  });
});
