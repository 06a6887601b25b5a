import { rm } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import { createTelegramAdapter, type TelegramAdapter } from "../../client/telegram/adapter.ts";
import { ManualClock } from "../../shared/clock.ts";
import { type FakeTelegram, startFakeTelegram } from "../fixtures/fake-telegram.ts";
import { hubClient, startTestHub, type TestHub } from "../helpers/hub.ts";

const CHAT_A = 1001;
const CHAT_B = 1002;
const STRANGER = 666;

let hub: TestHub;
let fake: FakeTelegram;
let adapter: TelegramAdapter | null = null;
let publisher: HubClient;
let adapterHub: HubClient;
let clock: ManualClock;
let logged: string[];
/** Data directories of restarted hubs, which their own stop() keeps. */
const keptDirs: string[] = [];

afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  publisher?.close();
  await fake?.close();
  await hub?.stop();
  for (const dir of keptDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function setUp(
  chatIds = [CHAT_A, CHAT_B],
  hubOptions: Parameters<typeof startTestHub>[0] = {},
  userIds: number[] = [],
) {
  hub = await startTestHub(hubOptions);
  fake = await startFakeTelegram();
  clock = new ManualClock(Date.now());
  logged = [];
  publisher = hubClient(hub);
  adapterHub = hubClient(hub, { channel: "telegram" });
  const log = (line: string) => logged.push(line);
  adapter = createTelegramAdapter({
    hub: adapterHub,
    token: fake.token,
    chatIds,
    userIds,
    apiRoot: fake.apiRoot,
    timers: clock,
    pollTimeoutSeconds: 1,
    log: { info: log, warn: log, error: log },
  });
  await adapter.start();
}

/** Waits until the adapter's mirror satisfies `check` and every write it started has finished. */
async function adapterSees(check: (hubClient: HubClient) => boolean, what: string) {
  await expect.poll(() => check(adapterHub), { timeout: 5000, message: what }).toBeTruthy();
  await adapter?.messages.settled();
}

const edits = (chatId: number) =>
  fake.chatCalls().filter((c) => c.method === "editMessageText" && c.params.chat_id === chatId);
const sends = (chatId: number) =>
  fake.chatCalls().filter((c) => c.method === "sendMessage" && c.params.chat_id === chatId);

describe("Telegram adapter", () => {
  it("posts one message per chat for a task, edits it as the task moves, and makes a final edit with the output path", async () => {
    await setUp();
    const task = await publisher.addTask({
      description: "Analyze trust documents",
      startedFrom: "voice",
      totalSteps: 4,
    });
    await adapterSees(() => sends(CHAT_A).length === 1 && sends(CHAT_B).length === 1, "the first messages");

    clock.advance(1000);
    await publisher.updateTask(task.taskId, { currentStep: 2, lastUpdate: "reading the trust deed" });
    await adapterSees(() => edits(CHAT_A).length === 1 && edits(CHAT_B).length === 1, "the progress edits");

    clock.advance(1000);
    await publisher.completeTask(task.taskId, { outputPath: "artifacts/trust-analysis.md" });
    await adapterSees(() => edits(CHAT_A).length === 2 && edits(CHAT_B).length === 2, "the final edits");

    for (const chatId of [CHAT_A, CHAT_B]) {
      const calls = fake.chatCalls().filter((c) => c.params.chat_id === chatId);
      expect(calls.map((c) => c.method)).toEqual(["sendMessage", "editMessageText", "editMessageText"]);
      const messageId = fake.messages.get(`${chatId}:${calls[1]?.params.message_id}`)?.messageId;
      expect(calls[2]?.params.message_id).toBe(messageId);
      expect(String(calls[0]?.params.text)).toContain("Analyze trust documents");
      expect(String(calls[1]?.params.text)).toContain("reading the trust deed");
      expect(String(calls[1]?.params.text)).toContain("step 2 of 4");
      expect(String(calls[2]?.params.text)).toContain("finished; the output is in artifacts/trust-analysis.md");
    }
  });

  it("a failed task's final edit carries the error", async () => {
    await setUp([CHAT_A]);
    const task = await publisher.addTask({ description: "Summarise inbox", startedFrom: "cli" });
    await adapterSees(() => sends(CHAT_A).length === 1, "the first message");
    clock.advance(1000);
    await publisher.completeTask(task.taskId, { status: "failed", error: "codex is not logged in" });
    await adapterSees(() => edits(CHAT_A).length === 1, "the final edit");
    expect(String(edits(CHAT_A)[0]?.params.text)).toContain("failed: codex is not logged in");
  });

  it("collapses a burst of updates into at most one edit per message per second, carrying the latest state", async () => {
    await setUp([CHAT_A]);
    const task = await publisher.addTask({ description: "Index the archive", startedFrom: "slack", totalSteps: 10 });
    await adapterSees(() => sends(CHAT_A).length === 1, "the first message");
    for (let step = 1; step <= 6; step++) {
      await publisher.updateTask(task.taskId, { currentStep: step, lastUpdate: `batch ${step}` });
    }
    await adapterSees(
      (h) => h.context?.activeTasks[0]?.lastUpdate === "batch 6",
      "the adapter to hear the whole burst",
    );
    // Within the first second the message was just written: no edit yet.
    expect(edits(CHAT_A)).toHaveLength(0);

    clock.advance(999);
    await adapter?.messages.settled();
    expect(edits(CHAT_A)).toHaveLength(0);

    clock.advance(1);
    await adapterSees(() => edits(CHAT_A).length === 1, "the throttled edit");
    expect(String(edits(CHAT_A)[0]?.params.text)).toContain("batch 6");

    clock.advance(5000);
    await adapter?.messages.settled();
    expect(edits(CHAT_A)).toHaveLength(1);
  });

  it("honours a 429's retry_after: nothing is sent to that chat until it has passed, then the latest state goes", async () => {
    await setUp([CHAT_A]);
    const task = await publisher.addTask({ description: "Draft the reply", startedFrom: "voice", totalSteps: 3 });
    await adapterSees(() => sends(CHAT_A).length === 1, "the first message");

    fake.rateLimit("editMessageText", 3);
    clock.advance(1000);
    await publisher.updateTask(task.taskId, { currentStep: 2, lastUpdate: "outline" });
    await adapterSees(() => edits(CHAT_A).length === 1, "the refused edit");

    await publisher.updateTask(task.taskId, { currentStep: 3, lastUpdate: "wording" });
    await adapterSees((h) => h.context?.activeTasks[0]?.lastUpdate === "wording", "the next update");
    clock.advance(2999);
    await adapter?.messages.settled();
    expect(edits(CHAT_A)).toHaveLength(1);

    clock.advance(1);
    await adapterSees(() => edits(CHAT_A).length === 2, "the retried edit");
    expect(String(edits(CHAT_A)[1]?.params.text)).toContain("wording");
    const shown = fake.message(CHAT_A, Number(sends(CHAT_A).length && edits(CHAT_A)[1]?.params.message_id));
    expect(shown?.text).toContain("wording");
  });

  it("/status answers with active tasks, waiting approvals and backend health, and marks telegram active", async () => {
    await setUp([CHAT_A], { config: { backends: { ollama: { kind: "ollama", url: "http://127.0.0.1:9" } } } });
    await publisher.addTask({ description: "Analyze trust documents", startedFrom: "voice", totalSteps: 4 });
    const waiting = await publisher.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
    await publisher.updateTask(waiting.taskId, {
      status: "pending-approval",
      awaitingApproval: { step: 2, title: "Push to production", detail: "git push origin main" },
    });
    await adapterSees(() => sends(CHAT_A).length === 2, "the task messages");

    const updateId = fake.sendText(CHAT_A, "/status");
    await expect
      .poll(() => fake.handled(updateId), { timeout: 5000, message: "the command to be handled" })
      .toBeTruthy();
    const reply = fake.chatCalls().filter((c) => c.method === "sendMessage")[2];
    expect(reply?.params.chat_id).toBe(CHAT_A);
    const text = String(reply?.params.text);
    expect(text.split("\n")[0]).toBe("One task running, one waiting for you.");
    expect(text).toContain("Analyze trust documents");
    expect(text).toContain(
      `Your task “Deploy the site” is waiting for your approval: Push to production [${waiting.taskId}]`,
    );
    expect(text).toMatch(/\nollama is (cold|dead)/);
    await expect
      .poll(() => hub.taskContext.getContext().channelHistory.telegram !== undefined, {
        timeout: 5000,
        message: "telegram marked active",
      })
      .toBeTruthy();
  });

  it("/task <id> answers with that task's state", async () => {
    await setUp([CHAT_A]);
    const task = await publisher.addTask({ description: "Translate the letter", startedFrom: "voice", totalSteps: 2 });
    await adapterSees(() => sends(CHAT_A).length === 1, "the task message");
    const updateId = fake.sendText(CHAT_A, `/task ${task.taskId}`);
    await expect
      .poll(() => fake.handled(updateId), { timeout: 5000, message: "the command to be handled" })
      .toBeTruthy();
    const reply = sends(CHAT_A)[1];
    expect(String(reply?.params.text)).toContain("Translate the letter");
    expect(String(reply?.params.text)).toContain(`id: ${task.taskId}`);
    await expect
      .poll(() => hub.taskContext.getContext().channelHistory.telegram?.lastTaskId === task.taskId, {
        timeout: 5000,
        message: "telegram marked active on the task",
      })
      .toBeTruthy();

    const unknown = fake.sendText(CHAT_A, "/task route_nope");
    await expect.poll(() => fake.handled(unknown), { timeout: 5000, message: "the second command" }).toBeTruthy();
    expect(String(sends(CHAT_A)[2]?.params.text)).toBe("No task with id route_nope. /status lists the tasks.");
  });

  it("plain text that the router cannot take (no backend) is answered with the hub's reason, as a reply to it", async () => {
    await setUp([CHAT_A]);
    const updateId = fake.sendText(CHAT_A, "hello?");
    await expect
      .poll(() => fake.handled(updateId), { timeout: 5000, message: "the message to be handled" })
      .toBeTruthy();
    const reply = sends(CHAT_A)[0];
    expect(String(reply?.params.text)).toMatch(/^Could not start the task: .*no backend/i);
    expect(reply?.params.reply_parameters).toMatchObject({ message_id: expect.any(Number) });
    expect(hub.taskContext.getContext().activeTasks).toEqual([]);
  });

  it("ignores and logs a chat that is not in the allowlist, and posts no task message there", async () => {
    await setUp([CHAT_A]);
    await publisher.addTask({ description: "Private work", startedFrom: "voice" });
    await adapterSees(() => sends(CHAT_A).length === 1, "the task message");

    const updateId = fake.sendText(STRANGER, "/status");
    await expect
      .poll(() => fake.handled(updateId), { timeout: 5000, message: "the stranger's update to be consumed" })
      .toBeTruthy();
    expect(fake.chatCalls().filter((c) => c.params.chat_id === STRANGER)).toEqual([]);
    expect(logged.some((line) => line.includes(`chat ${STRANGER}`) && line.includes("not in telegram.chatIds"))).toBe(
      true,
    );
    expect(hub.taskContext.getContext().channelHistory.telegram).toBeUndefined();
  });

  it("stops cleanly, with a warning, when Telegram cannot be reached any more", async () => {
    await setUp([CHAT_A]);
    await fake.close();
    await expect(adapter?.stop()).resolves.toBeUndefined();
    adapter = null;
    expect(logged.some((line) => line.startsWith("telegram: stopped without reaching Telegram"))).toBe(true);
  });

  it("a pending approval shows Approve / Reject buttons naming its step; pressing Reject acts through the hub and the message loses its buttons", async () => {
    await setUp([CHAT_A]);
    const task = await publisher.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
    await adapterSees(() => sends(CHAT_A).length === 1, "the task message");
    clock.advance(1000);
    await publisher.updateTask(task.taskId, {
      status: "pending-approval",
      awaitingApproval: { step: 2, title: "Push to production", detail: "git push origin main" },
    });
    await adapterSees(() => edits(CHAT_A).length === 1, "the approval edit");
    const messageId = Number(sends(CHAT_A).length && edits(CHAT_A)[0]?.params.message_id);
    const shown = fake.message(CHAT_A, messageId);
    expect(shown?.text).toContain("waiting for your approval: Push to production");
    expect(shown?.text).toContain("git push origin main");
    expect(shown?.replyMarkup).toEqual({
      inline_keyboard: [
        [
          { text: "Approve", callback_data: "approve:2" },
          { text: "Reject", callback_data: "reject:2" },
        ],
      ],
    });

    clock.advance(1000);
    const updateId = fake.press(CHAT_A, messageId, "reject:2");
    await expect
      .poll(() => fake.handled(updateId), { timeout: 5000, message: "the button press to be handled" })
      .toBeTruthy();
    const answer = fake.chatCalls().find((c) => c.method === "answerCallbackQuery");
    expect(answer?.params.text).toBe("Rejected");
    await adapterSees(() => (fake.message(CHAT_A, messageId)?.edits ?? 0) >= 2, "the message to follow the decision");
    expect(fake.message(CHAT_A, messageId)?.replyMarkup).toBeNull();
    const decided = [...hub.taskContext.getContext().recentCompleted, ...hub.taskContext.getContext().activeTasks].find(
      (t) => t.taskId === task.taskId,
    );
    expect(decided?.approval).toMatchObject({ decision: "rejected", channel: "telegram" });
    expect(hub.taskContext.getContext().channelHistory.telegram?.lastTaskId).toBe(task.taskId);
  });

  it("after the hub restarts it resumes its messages: an unchanged task is not reposted, a change edits the same message", async () => {
    await setUp([CHAT_A], { keepData: true });
    const task = await publisher.addTask({ description: "Long research", startedFrom: "voice", totalSteps: 5 });
    await adapterSees(() => sends(CHAT_A).length === 1, "the task message");
    const firstEpoch = adapterHub.position("context")?.epoch;
    publisher.close();

    const { port, dataDir } = hub;
    await hub.stop();
    await expect
      .poll(() => adapterHub.state === "reconnecting", { timeout: 5000, message: "the adapter to notice" })
      .toBeTruthy();
    keptDirs.push(dataDir);
    hub = await startTestHub({ dataDir, config: { port } });
    await adapterSees(
      (h) => h.state === "live" && h.position("context")?.epoch !== firstEpoch && h.context !== null,
      "a snapshot from the new hub",
    );
    expect(fake.chatCalls().map((c) => c.method)).toEqual(["sendMessage"]);

    publisher = hubClient(hub);
    clock.advance(1000);
    await publisher.updateTask(task.taskId, { currentStep: 3, lastUpdate: "third source" });
    await adapterSees(() => edits(CHAT_A).length === 1, "the edit after restart");
    expect(fake.chatCalls().map((c) => c.method)).toEqual(["sendMessage", "editMessageText"]);
    expect(edits(CHAT_A)[0]?.params.message_id).toBe(fake.message(CHAT_A, 100)?.messageId);
  });

  /** Puts the task's message into the waiting state and returns the message id, once the chat shows it. */
  async function waitingMessage(taskId: string, update: Parameters<HubClient["updateTask"]>[1], shows: string) {
    clock.advance(1000);
    await publisher.updateTask(taskId, update);
    await adapterSees(
      () => [...fake.messages.values()].some((m) => m.text.includes(shows)),
      `the message to show ${shows}`,
    );
    return ([...fake.messages.values()].find((m) => m.text.includes(shows)) as { messageId: number }).messageId;
  }
  const answers = () => fake.chatCalls().filter((c) => c.method === "answerCallbackQuery");

  it("a tool approval shows its command in a code block, and an old button of the same step cannot approve the next tool call", async () => {
    await setUp([CHAT_A]);
    const task = await publisher.addTask({ description: "Fix the build", startedFrom: "cli", totalSteps: 1 });
    await adapterSees(() => sends(CHAT_A).length === 1, "the task message");
    const toolCall = (id: string, command: string) => ({
      status: "pending-approval" as const,
      awaitingApproval: {
        kind: "tool" as const,
        id,
        step: 1,
        tool: "Bash",
        title: `Bash: ${command}`,
        detail: command,
      },
    });
    const messageId = await waitingMessage(task.taskId, toolCall("tool_first1", "npm test"), "npm test");
    const shown = fake.message(CHAT_A, messageId);
    const [entity] = (shown?.entities ?? []) as { type: string; offset: number; length: number; language: string }[];
    expect(entity).toMatchObject({ type: "pre", language: "bash" });
    expect(shown?.text.slice(entity?.offset, (entity?.offset ?? 0) + (entity?.length ?? 0))).toBe("npm test");
    expect(shown?.replyMarkup).toEqual({
      inline_keyboard: [
        [
          { text: "Approve", callback_data: "approve:1:tool_first1" },
          { text: "Reject", callback_data: "reject:1:tool_first1" },
        ],
      ],
    });

    // The first call ends undecided (its time ran out); the next one of the same step waits.
    await waitingMessage(task.taskId, toolCall("tool_second", "rm -rf build"), "rm -rf build");
    const before = hub.taskContext.document.version;
    const updateId = fake.press(CHAT_A, messageId, "approve:1:tool_first1");
    await expect.poll(() => fake.handled(updateId), { timeout: 5000, message: "the press to be handled" }).toBeTruthy();
    expect(answers().at(-1)?.params).toMatchObject({ show_alert: true });
    expect(String(answers().at(-1)?.params.text)).toMatch(
      /^Not done: task \S+ no longer waits on tool call tool_first1/,
    );
    expect(String(answers().at(-1)?.params.text).length).toBeLessThanOrEqual(200);
    await expect
      .poll(() => hub.taskContext.document.version > before, { timeout: 5000, message: "telegram marked active" })
      .toBeTruthy();
    expect(hub.taskContext.getActiveTask(task.taskId)).toMatchObject({
      status: "pending-approval",
      awaitingApproval: { id: "tool_second" },
    });

    // The button on screen now decides the call it shows.
    const now = fake.press(CHAT_A, messageId, "approve:1:tool_second");
    await expect.poll(() => fake.handled(now), { timeout: 5000, message: "the second press" }).toBeTruthy();
    expect(answers().at(-1)?.params.text).toBe("Approved");
    expect(hub.taskContext.getActiveTask(task.taskId)?.approval).toMatchObject({
      decision: "approved",
      id: "tool_second",
    });
  });

  it("a press for a step that no longer waits is refused by the hub: nothing is decided, and the alert says why", async () => {
    await setUp([CHAT_A]);
    const task = await publisher.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
    await adapterSees(() => sends(CHAT_A).length === 1, "the task message");
    const messageId = await waitingMessage(
      task.taskId,
      {
        status: "pending-approval",
        currentStep: 1,
        awaitingApproval: { step: 1, title: "Build", detail: "npm run build" },
      },
      "npm run build",
    );
    await publisher.approve(task.taskId, 1);
    await publisher.updateTask(task.taskId, {
      status: "pending-approval",
      currentStep: 2,
      awaitingApproval: { step: 2, title: "Push to production", detail: "git push origin main" },
    });
    const updateId = fake.press(CHAT_A, messageId, "approve:1");
    await expect.poll(() => fake.handled(updateId), { timeout: 5000, message: "the press to be handled" }).toBeTruthy();
    expect(String(answers().at(-1)?.params.text)).toMatch(
      /^Not done: task \S+ waits for a decision on step 2, not step 1/,
    );
    expect(hub.taskContext.getActiveTask(task.taskId)).toMatchObject({
      status: "pending-approval",
      awaitingApproval: { step: 2 },
      approval: null,
    });
  });

  it("telegram.userIds: in a group only listed people act; others' messages and presses are ignored and logged once per person; a private chat is its own person's", async () => {
    const GROUP = -3003;
    await setUp([GROUP, CHAT_A], {}, [7]);
    const task = await publisher.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
    await adapterSees(() => sends(GROUP).length === 1 && sends(CHAT_A).length === 1, "the task messages");
    const update = {
      status: "pending-approval" as const,
      currentStep: 2,
      awaitingApproval: { step: 2, title: "Push to production", detail: "git push origin main" },
    };
    clock.advance(1000);
    await publisher.updateTask(task.taskId, update);
    await adapterSees(() => edits(GROUP).length === 1 && edits(CHAT_A).length === 1, "the approval edits");
    const groupMessage = Number(edits(GROUP)[0]?.params.message_id);
    const before = fake.chatCalls().length;

    const stranger = { from: 8, chatType: "group" as const };
    const ids = [
      fake.sendText(GROUP, "/status", stranger),
      fake.sendText(GROUP, "delete everything", stranger),
      fake.press(GROUP, groupMessage, "approve:2", stranger),
    ];
    await expect
      .poll(() => ids.every((id) => fake.handled(id)), {
        timeout: 5000,
        message: "the stranger's updates to be consumed",
      })
      .toBeTruthy();
    expect(fake.chatCalls().slice(before)).toEqual([]);
    expect(hub.taskContext.getActiveTask(task.taskId)?.status).toBe("pending-approval");
    expect(hub.taskContext.getContext().channelHistory.telegram).toBeUndefined();
    expect(logged.filter((line) => line.includes("user 8"))).toEqual([
      `telegram: ignored updates from user 8 in chat ${GROUP}, which is not in telegram.userIds (logged once)`,
    ]);

    // The listed person in the group, and the person of the private chat (not listed), may act.
    const listed = fake.sendText(GROUP, "/status", { from: 7, chatType: "group" });
    await expect
      .poll(() => fake.handled(listed), { timeout: 5000, message: "the listed person's command" })
      .toBeTruthy();
    expect(sends(GROUP).length).toBe(2);
    const own = fake.press(CHAT_A, Number(edits(CHAT_A)[0]?.params.message_id), "approve:2");
    await expect.poll(() => fake.handled(own), { timeout: 5000, message: "the private chat's press" }).toBeTruthy();
    expect(hub.taskContext.getActiveTask(task.taskId)?.approval).toMatchObject({
      decision: "approved",
      channel: "telegram",
    });
  });
});
