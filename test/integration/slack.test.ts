import { rm } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import { createSlackAdapter, type SlackAdapter } from "../../client/slack/adapter.ts";
import { slackViews } from "../../client/slack/blocks.ts";
import { silentLogger } from "../../server/log.ts";
import { SLACK_COMMANDS_PATH, SLACK_INTERACTIONS_PATH, slackEndpoint } from "../../server/slack-endpoint.ts";
import { type RunningHub, startHub } from "../../server/start.ts";
import { ManualClock } from "../../shared/clock.ts";
import { type FakeSlack, startFakeSlack } from "../fixtures/fake-slack.ts";
import { hubClient, makeDataDir, testConfig } from "../helpers/hub.ts";
import { type SlackRequestOptions, signedSlackRequest } from "../helpers/slack-request.ts";

const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const HUB_TOKEN = "hub-secret-token";

let hub: RunningHub;
let dataDir: string;
let fake: FakeSlack;
let adapter: SlackAdapter | null = null;
let publisher: HubClient;
let adapterHub: HubClient;
let clock: ManualClock;

afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  publisher?.close();
  await fake?.close();
  await hub?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A real hub guarded by a token, with the Slack endpoint mounted as main.ts mounts it. */
async function setUp(channels = ["#ops", "C0DEV"]) {
  dataDir = await makeDataDir();
  fake = await startFakeSlack();
  const fakeOrigin = fake.origin;
  hub = await startHub({
    config: testConfig({}, dataDir),
    secrets: { token: HUB_TOKEN },
    logger: silentLogger,
    plugins: [
      slackEndpoint({
        signingSecret: SIGNING_SECRET,
        access: { channels, userIds: [] },
        responseOrigins: [fakeOrigin],
        views: slackViews,
        hubToken: HUB_TOKEN,
        logger: silentLogger,
      }),
    ],
  });
  clock = new ManualClock(Date.now());
  publisher = hubClient(hub, { token: HUB_TOKEN });
  adapterHub = hubClient(hub, { token: HUB_TOKEN, channel: "slack" });
  adapter = createSlackAdapter({
    hub: adapterHub,
    token: fake.token,
    channels,
    apiUrl: fake.apiUrl,
    timers: clock,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  await adapter.start();
}

async function adapterSees(check: () => boolean, what: string) {
  await expect.poll(check, { timeout: 5000, message: what }).toBeTruthy();
  await adapter?.messages.settled();
}

const chatCalls = () => fake.calls.filter((c) => c.method.startsWith("chat."));
const posts = (channel: string) =>
  fake.calls.filter((c) => c.method === "chat.postMessage" && c.params.channel === channel);
const updates = (channelId: string) =>
  fake.calls.filter((c) => c.method === "chat.update" && c.params.channel === channelId);
const blocksOf = (call: { params: Record<string, unknown> } | undefined) =>
  JSON.parse(String(call?.params.blocks ?? "[]")) as { type: string; elements?: unknown[]; text?: { text: string } }[];
const blockText = (call: { params: Record<string, unknown> } | undefined) => JSON.stringify(blocksOf(call));

/** A request as Slack sends it, signed with the hub's secret unless `options` says otherwise. */
const signed = (body: string, options: Partial<SlackRequestOptions> = {}) =>
  signedSlackRequest(body, { secret: SIGNING_SECRET, ...options });

const commandBody = (text: string) =>
  new URLSearchParams({
    token: "legacy-verification-token",
    team_id: "T1",
    channel_id: "C0DEV",
    user_id: "U1",
    command: "/switchboard",
    text,
    response_url: "https://hooks.slack.invalid/commands/1",
  }).toString();

/** A press as Slack sends it: `value` is what the button carried (approvalButtonValue for our buttons). */
const actionBody = (actionId: "approve" | "reject", value: string, responseUrl?: string) =>
  new URLSearchParams({
    payload: JSON.stringify({
      type: "block_actions",
      user: { id: "U1" },
      channel: { id: "C0DEV" },
      ...(responseUrl ? { response_url: responseUrl } : {}),
      actions: [{ action_id: actionId, block_id: "switchboard_approval", value, type: "button" }],
    }),
  }).toString();

/** The value the Approve / Reject buttons carry in the last write of a message. */
function buttonValue(call: { params: Record<string, unknown> } | undefined): string {
  const actions = blocksOf(call).find((b) => b.type === "actions");
  return String((actions?.elements?.[0] as { value?: string } | undefined)?.value);
}

/** "Deploy the site", posted to C0DEV, then waiting for approval of step 2 ("Push to production"). */
async function pendingTask() {
  const task = await publisher.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
  await adapterSees(() => posts("C0DEV").length === 1, "the first post");
  clock.advance(1000);
  await publisher.updateTask(task.taskId, {
    status: "pending-approval",
    awaitingApproval: { step: 2, title: "Push to production", detail: "git push origin main" },
  });
  return task;
}

describe("Slack adapter", () => {
  it("posts one Block Kit message per channel for a task, updates it by the returned channel id, and ends with the output path", async () => {
    await setUp();
    const task = await publisher.addTask({
      description: "Analyze trust documents",
      startedFrom: "voice",
      totalSteps: 4,
    });
    await adapterSees(() => posts("#ops").length === 1 && posts("C0DEV").length === 1, "the first posts");

    clock.advance(1000);
    await publisher.updateTask(task.taskId, { currentStep: 3, lastUpdate: "reading the trust deed" });
    await adapterSees(() => updates("COPS").length === 1 && updates("C0DEV").length === 1, "the progress updates");

    clock.advance(1000);
    await publisher.completeTask(task.taskId, { outputPath: "artifacts/trust-analysis.md" });
    await adapterSees(() => updates("COPS").length === 2 && updates("C0DEV").length === 2, "the final updates");

    expect(chatCalls().map((c) => c.method)).toEqual([
      "chat.postMessage",
      "chat.postMessage",
      "chat.update",
      "chat.update",
      "chat.update",
      "chat.update",
    ]);
    const [progress, final] = updates("COPS");
    expect(progress?.params.ts).toBe(final?.params.ts);
    expect(blockText(progress)).toContain("step 3 of 4 — reading the trust deed");
    expect(blockText(progress)).toContain("▰▰▰▰▰▱▱▱▱▱ 50%");
    expect(String(final?.params.text)).toContain("finished; the output is in artifacts/trust-analysis.md");
    expect(blocksOf(final).some((b) => b.type === "actions")).toBe(false);
    expect(fake.calls.every((c) => c.token === fake.token)).toBe(true);
  });

  it("collapses a burst of updates into one chat.update per second with the latest state", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Index the archive", startedFrom: "slack", totalSteps: 10 });
    await adapterSees(() => posts("C0DEV").length === 1, "the first post");
    for (let step = 1; step <= 6; step++) {
      await publisher.updateTask(task.taskId, { currentStep: step, lastUpdate: `batch ${step}` });
    }
    await adapterSees(() => adapterHub.context?.activeTasks[0]?.lastUpdate === "batch 6", "the whole burst");
    expect(updates("C0DEV")).toHaveLength(0);
    clock.advance(1000);
    await adapterSees(() => updates("C0DEV").length === 1, "the throttled update");
    expect(blockText(updates("C0DEV")[0])).toContain("batch 6");
    clock.advance(5000);
    await adapter?.messages.settled();
    expect(updates("C0DEV")).toHaveLength(1);
  });

  it("waits out a 429's Retry-After before the next write to that channel, then sends the newest state", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Draft the reply", startedFrom: "voice", totalSteps: 3 });
    await adapterSees(() => posts("C0DEV").length === 1, "the first post");
    fake.rateLimit("chat.update", 2);
    clock.advance(1000);
    await publisher.updateTask(task.taskId, { currentStep: 2, lastUpdate: "outline" });
    await adapterSees(() => updates("C0DEV").length === 1, "the refused update");
    await publisher.updateTask(task.taskId, { currentStep: 3, lastUpdate: "wording" });
    await adapterSees(() => adapterHub.context?.activeTasks[0]?.lastUpdate === "wording", "the next change");
    clock.advance(1999);
    await adapter?.messages.settled();
    expect(updates("C0DEV")).toHaveLength(1);
    clock.advance(1);
    await adapterSees(() => updates("C0DEV").length === 2, "the retried update");
    const ts = String(updates("C0DEV")[1]?.params.ts);
    expect(JSON.stringify(fake.message("C0DEV", ts)?.blocks)).toContain("wording");
  });

  it("a pending approval carries Approve and Reject buttons naming the task and the step they decide", async () => {
    await setUp(["C0DEV"]);
    const task = await pendingTask();
    await adapterSees(() => chatCalls().length >= 1 && blockText(chatCalls().at(-1)).includes("approve"), "buttons");
    const actions = blocksOf(chatCalls().at(-1)).find((b) => b.type === "actions");
    expect(actions?.elements).toEqual([
      {
        type: "button",
        action_id: "approve",
        text: { type: "plain_text", text: "Approve" },
        style: "primary",
        value: JSON.stringify({ taskId: task.taskId, step: 2 }),
      },
      {
        type: "button",
        action_id: "reject",
        text: { type: "plain_text", text: "Reject" },
        style: "danger",
        value: JSON.stringify({ taskId: task.taskId, step: 2 }),
      },
    ]);
  });

  it("a tool approval shows its command escaped in a code block, and its buttons carry that call's approvalId", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Fix the build", startedFrom: "cli", totalSteps: 1 });
    await adapterSees(() => posts("C0DEV").length === 1, "the first post");
    clock.advance(1000);
    await publisher.updateTask(task.taskId, {
      status: "pending-approval",
      awaitingApproval: {
        kind: "tool",
        id: "tool_aaa111",
        step: 1,
        tool: "Bash",
        title: "Bash: npm test && rm -rf <dist>",
        summary: "Bash: npm test && rm -rf <dist>",
        detail: "npm test && rm -rf <dist>\necho ```done```",
      },
    });
    await adapterSees(() => blockText(chatCalls().at(-1)).includes("approve"), "the buttons");
    const blocks = blocksOf(chatCalls().at(-1));
    const code = blocks.find((b) => b.type === "section" && b.text?.text.startsWith("```"));
    // Escaped for Slack, and the ``` inside cannot close the block early.
    expect(code?.text?.text).toBe("```npm test &amp;&amp; rm -rf &lt;dist&gt;\necho ``\u200b`done``\u200b````");
    expect(JSON.parse(buttonValue(chatCalls().at(-1)))).toEqual({
      taskId: task.taskId,
      step: 1,
      approvalId: "tool_aaa111",
    });
  });
});

describe("Slack adapter across a hub restart", () => {
  it("does not repost an unchanged task after reconnecting, and updates the same message on the next change", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Long research", startedFrom: "voice", totalSteps: 5 });
    await adapterSees(() => posts("C0DEV").length === 1, "the first post");
    const firstEpoch = adapterHub.position("context")?.epoch;
    publisher.close();

    const port = hub.port;
    await hub.close();
    await expect
      .poll(() => adapterHub.state === "reconnecting", { timeout: 5000, message: "the adapter to notice" })
      .toBeTruthy();
    hub = await startHub({
      config: testConfig({ port }, dataDir),
      secrets: { token: HUB_TOKEN },
      logger: silentLogger,
    });
    await adapterSees(
      () => adapterHub.state === "live" && adapterHub.position("context")?.epoch !== firstEpoch,
      "a snapshot from the new hub",
    );
    expect(chatCalls().map((c) => c.method)).toEqual(["chat.postMessage"]);

    publisher = hubClient(hub, { token: HUB_TOKEN });
    clock.advance(1000);
    await publisher.updateTask(task.taskId, { currentStep: 3, lastUpdate: "third source" });
    await adapterSees(() => updates("C0DEV").length === 1, "the update after the restart");
    expect(chatCalls().map((c) => c.method)).toEqual(["chat.postMessage", "chat.update"]);
    expect(updates("C0DEV")[0]?.params.ts).toBe([...fake.messages.values()][0]?.ts);
  });
});

describe("Slack endpoint on the hub", () => {
  it("answers a signed `/switchboard status` without the hub token, and marks slack active", async () => {
    await setUp(["C0DEV"]);
    await publisher.addTask({ description: "Analyze trust documents", startedFrom: "voice", totalSteps: 4 });
    const response = await fetch(`${hub.url}${SLACK_COMMANDS_PATH}`, signed(commandBody("status")));
    expect(response.status).toBe(200);
    const reply = (await response.json()) as { response_type: string; text: string; blocks: unknown[] };
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toBe("One task running.");
    expect(JSON.stringify(reply.blocks)).toContain("Analyze trust documents");
    expect(JSON.stringify(reply.blocks)).toContain("No backends are configured.");
    expect(hub.taskContext.getContext().channelHistory.slack).toBeDefined();
  });

  it("answers `/switchboard task <id>` with that task, and says so for an unknown id", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Translate the letter", startedFrom: "voice", totalSteps: 2 });
    const found = await fetch(`${hub.url}${SLACK_COMMANDS_PATH}`, signed(commandBody(`task ${task.taskId}`)));
    const foundReply = (await found.json()) as { text: string };
    expect(foundReply.text).toContain("Translate the letter");
    expect(hub.taskContext.getContext().channelHistory.slack?.lastTaskId).toBe(task.taskId);

    const missing = await fetch(`${hub.url}${SLACK_COMMANDS_PATH}`, signed(commandBody("task route_nope")));
    expect(((await missing.json()) as { text: string }).text).toBe(
      "No task with id route_nope. `/switchboard status` lists the tasks.",
    );
  });

  it("refuses with 401, and changes nothing, a request that is unsigned, mis-signed, tampered with or older than five minutes", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
    const before = hub.taskContext.document.version;
    const body = actionBody("approve", JSON.stringify({ taskId: task.taskId, step: 1 }));
    const now = Math.floor(Date.now() / 1000);
    const attempts = {
      unsigned: signed(body, { signature: null }),
      "no timestamp": {
        ...signed(body),
        headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-signature": "v0=00" },
      },
      "wrong secret": signed(body, { secret: "not-the-signing-secret" }),
      "tampered body": {
        ...signed(body),
        body: actionBody("approve", JSON.stringify({ taskId: task.taskId, step: 2 })),
      },
      "stale (6 minutes old)": signed(body, { timestamp: now - 360 }),
      "from the future (6 minutes ahead)": signed(body, { timestamp: now + 360 }),
    };
    for (const [what, request] of Object.entries(attempts)) {
      for (const path of [SLACK_INTERACTIONS_PATH, SLACK_COMMANDS_PATH]) {
        const response = await fetch(`${hub.url}${path}`, request);
        expect(response.status, `${what} at ${path}`).toBe(401);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
    }
    expect(hub.taskContext.document.version).toBe(before);
    expect(hub.taskContext.getContext().channelHistory.slack).toBeUndefined();

    // The same request, correctly signed and fresh, is accepted.
    const accepted = await fetch(`${hub.url}${SLACK_COMMANDS_PATH}`, signed(commandBody("status")));
    expect(accepted.status).toBe(200);
  });

  it("pressing Approve in Slack approves the task through the hub, and the message loses its buttons", async () => {
    await setUp(["C0DEV"]);
    const task = await pendingTask();
    await adapterSees(() => blockText(chatCalls().at(-1)).includes("approve"), "the buttons");
    const [message] = [...fake.messages.values()];

    clock.advance(1000);
    const value = buttonValue(chatCalls().at(-1));
    const response = await fetch(`${hub.url}${SLACK_INTERACTIONS_PATH}`, signed(actionBody("approve", value)));
    expect(response.status).toBe(200);
    const decided = [...hub.taskContext.getContext().activeTasks, ...hub.taskContext.getContext().recentCompleted].find(
      (t) => t.taskId === task.taskId,
    );
    expect(decided?.approval).toMatchObject({ decision: "approved", channel: "slack" });
    expect(hub.taskContext.getContext().channelHistory.slack?.lastTaskId).toBe(task.taskId);

    clock.advance(1000);
    await adapterSees(() => (message?.updates ?? 0) >= 2, "the message to follow the approval");
    expect(fake.messages.size).toBe(1);
    expect(message?.blocks.some((b) => (b as { type: string }).type === "actions")).toBe(false);
  });
});

describe("Slack buttons decide what they showed, or nothing", () => {
  const responses = () => fake.calls.filter((c) => c.method === "response_url");
  const press = (action: "approve" | "reject", value: string) =>
    fetch(`${hub.url}${SLACK_INTERACTIONS_PATH}`, signed(actionBody(action, value, fake.responseUrl())));

  it("a press on a step that no longer waits is refused (409 from the hub): the next step still waits, and the person is told privately", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
    await adapterSees(() => posts("C0DEV").length === 1, "the first post");
    clock.advance(1000);
    await publisher.updateTask(task.taskId, {
      status: "pending-approval",
      currentStep: 1,
      awaitingApproval: { step: 1, title: "Build", detail: "npm run build" },
    });
    await adapterSees(() => blockText(chatCalls().at(-1)).includes("approve"), "the step 1 buttons");
    const stepOneButton = buttonValue(chatCalls().at(-1));
    await publisher.approve(task.taskId, 1);
    await publisher.updateTask(task.taskId, {
      status: "pending-approval",
      currentStep: 2,
      awaitingApproval: { step: 2, title: "Push to production", detail: "git push origin main" },
    });
    const before = hub.taskContext.document.version;

    const response = await press("approve", stepOneButton);
    expect(response.status).toBe(200);
    expect(hub.taskContext.document.version).toBe(before + 1); // slack marked active, nothing else
    expect(hub.taskContext.getActiveTask(task.taskId)).toMatchObject({
      status: "pending-approval",
      awaitingApproval: { step: 2 },
      approval: null,
    });
    await expect.poll(() => responses().length === 1, { timeout: 5000, message: "the private answer" }).toBeTruthy();
    expect(responses()[0]?.params).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(String(responses()[0]?.params.text)).toMatch(
      /^Nothing was approved: task \S+ waits for a decision on step 2, not step 1: what you saw is out of date/,
    );
  });

  it("an old tool call's button cannot decide the next tool call of the same step", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Fix the build", startedFrom: "cli", totalSteps: 1 });
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
    await adapterSees(() => posts("C0DEV").length === 1, "the first post");
    clock.advance(1000);
    await publisher.updateTask(task.taskId, toolCall("tool_first1", "npm test"));
    await adapterSees(() => buttonValue(chatCalls().at(-1)).includes("tool_first1"), "the first call's buttons");
    const firstButton = buttonValue(chatCalls().at(-1));
    // The first call ended without a decision (say, its time ran out); the next one waits.
    await publisher.updateTask(task.taskId, toolCall("tool_second", "rm -rf build"));
    const before = hub.taskContext.document.version;

    expect((await press("approve", firstButton)).status).toBe(200);
    expect(hub.taskContext.document.version).toBe(before + 1); // slack marked active, nothing else
    expect(hub.taskContext.getActiveTask(task.taskId)).toMatchObject({
      status: "pending-approval",
      awaitingApproval: { id: "tool_second" },
    });
    await expect.poll(() => responses().length === 1, { timeout: 5000, message: "the private answer" }).toBeTruthy();
    expect(String(responses()[0]?.params.text)).toContain("no longer waits on tool call tool_first1");
  });

  it("a button that names no step (a message from an older version) decides nothing and says so", async () => {
    await setUp(["C0DEV"]);
    const task = await publisher.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
    await publisher.updateTask(task.taskId, {
      status: "pending-approval",
      awaitingApproval: { step: 1, title: "Build", detail: "npm run build" },
    });
    const before = hub.taskContext.document.version;
    expect((await press("approve", task.taskId)).status).toBe(200);
    expect(hub.taskContext.document.version).toBe(before);
    await expect.poll(() => responses().length === 1, { timeout: 5000, message: "the private answer" }).toBeTruthy();
    expect(String(responses()[0]?.params.text)).toMatch(/^Nothing was approved: this button is out of date/);
  });
});
