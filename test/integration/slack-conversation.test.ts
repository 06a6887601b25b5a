import { afterEach, describe, expect, it } from "vitest";
import { TASK_TEXT_LIMIT } from "../../client/intake.ts";
import { createSlackAdapter, type SlackAdapter } from "../../client/slack/adapter.ts";
import { slackViews } from "../../client/slack/blocks.ts";
import { silentLogger } from "../../server/log.ts";
import { SLACK_COMMANDS_PATH, SLACK_EVENTS_PATH, slackEndpoint } from "../../server/slack-endpoint.ts";
import type { Task } from "../../shared/schemas.ts";
import { type FakeSlack, startFakeSlack } from "../fixtures/fake-slack.ts";
import { hubClient, type TestHub } from "../helpers/hub.ts";
import {
  cleanupRouterHubs,
  finishedTask,
  routerHub,
  runCalls,
  allTasks as tasksOf,
  workspaceFolder,
} from "../helpers/router-hub.ts";
import { signedSlackRequest } from "../helpers/slack-request.ts";

const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const CHANNEL = "C0DEV";

let hub: TestHub;
let fake: FakeSlack;
let adapter: SlackAdapter | null = null;
let logged: string[];
let cliLog: string;

afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  await fake?.close();
  await cleanupRouterHubs();
});

async function setUp(modes: Record<string, string> = {}, workspaces?: Record<string, unknown>) {
  logged = [];
  const log = {
    info: (m: string) => logged.push(m),
    warn: (m: string) => logged.push(m),
    error: (m: string) => logged.push(m),
  };
  const endpoint = slackEndpoint({
    signingSecret: SIGNING_SECRET,
    access: { channels: [CHANNEL], userIds: [] },
    views: slackViews,
    hubToken: null,
    logger: silentLogger,
    onThreadReply: (reply) => void adapter?.threadReply(reply),
  });
  ({ hub, log: cliLog } = await routerHub({ plugins: [endpoint], modes, ...(workspaces ? { workspaces } : {}) }));
  fake = await startFakeSlack();
  adapter = createSlackAdapter({
    hub: hubClient(hub, { channel: "slack" }),
    token: fake.token,
    channels: [CHANNEL],
    apiUrl: fake.apiUrl,
    minEditIntervalMs: 0,
    log,
  });
  await adapter.start();
}

const signed = (body: string, contentType: string, secret = SIGNING_SECRET, timestamp?: number) =>
  signedSlackRequest(body, { secret, contentType, ...(timestamp === undefined ? {} : { timestamp }) });

const command = (text: string) =>
  fetch(
    `${hub.url}${SLACK_COMMANDS_PATH}`,
    signed(
      new URLSearchParams({ command: "/switchboard", text, channel_id: CHANNEL, user_id: "U1" }).toString(),
      "application/x-www-form-urlencoded",
    ),
  );

const event = (envelope: unknown, secret?: string, at?: number) =>
  fetch(`${hub.url}${SLACK_EVENTS_PATH}`, signed(JSON.stringify(envelope), "application/json", secret, at));

const allTasks = (): Task[] => tasksOf(hub);
const posts = () => fake.calls.filter((c) => c.method === "chat.postMessage");

describe("Slack intake", () => {
  it("`/switchboard new <text>` starts a routed task from slack and answers privately with what started", async () => {
    await setUp();
    const response = await command("new Summarise the quarterly report");
    expect(response.status).toBe(200);
    const reply = (await response.json()) as { response_type: string; text: string };
    expect(allTasks()).toHaveLength(1);
    const [task] = allTasks();
    expect(task).toMatchObject({ description: "Summarise the quarterly report", startedFrom: "slack" });
    expect(reply.response_type).toBe("ephemeral");
    expect(reply.text).toBe(
      `Started your task “Summarise the quarterly report” (${task?.taskId}). Reply in its message's thread to add to it.`,
    );
    await expect
      .poll(() => posts().some((c) => String(c.params.text).includes("Summarise the quarterly report")), {
        timeout: 5000,
        message: "the task message",
      })
      .toBeTruthy();
  });

  it("`/switchboard new` with no text or too long a text starts nothing and says why", async () => {
    await setUp();
    const empty = (await (await command("new")).json()) as { text: string };
    expect(empty.text).toBe("Could not start the task: say what the task should do.");
    const long = (await (await command(`new ${"x".repeat(TASK_TEXT_LIMIT + 1)}`)).json()) as { text: string };
    expect(long.text).toContain(`at most ${TASK_TEXT_LIMIT} characters`);
    expect(allTasks()).toEqual([]);
  });

  it("`/switchboard new in workspace NAME: <text>` starts the task in that workspace (the CLI runs in its folder) and the reply names it", async () => {
    const site = await workspaceFolder("site");
    await setUp({}, { site: { path: site } });
    const reply = (await (await command("new in workspace site: fix the failing test")).json()) as { text: string };
    const [task] = allTasks();
    expect(task).toMatchObject({ description: "fix the failing test", startedFrom: "slack", workspace: "site" });
    expect(reply.text).toBe(
      `Started your task “fix the failing test” in workspace site (${task?.taskId}). Reply in its message's thread to add to it.`,
    );
    await finishedTask(hub, task?.taskId as string);
    const [call] = await runCalls(cliLog);
    expect(call?.cwd).toBe(site);
  });

  it("a workspace the hub does not have starts nothing, and the reply lists the configured ones", async () => {
    const site = await workspaceFolder("site");
    await setUp({}, { site: { path: site } });
    const version = hub.taskContext.document.version;
    const unknown = (await (await command("new in workspace attic: sweep up")).json()) as {
      response_type: string;
      text: string;
    };
    expect(unknown.response_type).toBe("ephemeral");
    expect(unknown.text).toMatch(
      /^Could not start the task: .*no workspace named "attic" \(configured: site; see GET \/api\/workspaces\)/,
    );
    const bare = (await (await command("new in workspace site:")).json()) as { text: string };
    expect(bare.text).toBe(
      "Could not start the task: say what the task should do in workspace site: /switchboard new in workspace site: <what to do>.",
    );
    expect(allTasks()).toEqual([]);
    expect(hub.taskContext.document.version).toBe(version);
  });
});

describe("Slack Events API endpoint", () => {
  it("answers the url_verification handshake with its challenge, and refuses it unsigned or mis-signed", async () => {
    await setUp();
    const handshake = {
      type: "url_verification",
      token: "legacy",
      challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
    };
    const response = await event(handshake);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ challenge: handshake.challenge });

    const wrong = await event(handshake, "not-the-secret");
    expect(wrong.status).toBe(401);
    const unsigned = await fetch(`${hub.url}${SLACK_EVENTS_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(handshake),
    });
    expect(unsigned.status).toBe(401);
  });

  it("a reply in a thread that is no task's, a top-level message and the bot's own message start nothing and post nothing", async () => {
    await setUp();
    const before = fake.calls.length;
    const envelopes = [
      {
        type: "message",
        channel: CHANNEL,
        user: "U1",
        text: "lunch?",
        ts: "1700000100.000001",
        thread_ts: "1600000000.000001",
      },
      { type: "message", channel: CHANNEL, user: "U1", text: "hello", ts: "1700000100.000002" },
      {
        type: "message",
        channel: CHANNEL,
        bot_id: "BBOT",
        text: "Added",
        ts: "1700000100.000003",
        thread_ts: "1600000000.000001",
      },
    ];
    for (const [i, message] of envelopes.entries()) {
      const response = await event({ type: "event_callback", event_id: `Ev${i}`, event: message });
      expect(response.status).toBe(200);
    }
    expect(fake.calls.slice(before)).toEqual([]);
    expect(allTasks()).toEqual([]);
    expect(logged.filter((line) => line.includes(`ignored thread replies in ${CHANNEL}`))).toHaveLength(1);
  });

  it("refuses an event envelope that is not Slack's shape with 400, and changes nothing", async () => {
    await setUp();
    const before = hub.taskContext.document.version;
    const response = await event({ type: "event_callback", event: { type: "message", text: 42 } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    expect(hub.taskContext.document.version).toBe(before);
  });
});

async function startedTask(text: string): Promise<{ task: Task; ts: string }> {
  await command(`new ${text}`);
  const task = allTasks().find((t) => t.description === text) as Task;
  await expect
    .poll(() => adapter?.messages.refOf(task.taskId, CHANNEL) != null, { timeout: 5000, message: "the task's message" })
    .toBeTruthy();
  return { task, ts: adapter?.messages.refOf(task.taskId, CHANNEL)?.ts as string };
}

const inThread = (ts: string) => posts().filter((c) => c.params.thread_ts === ts);
const finished = (taskId: string) =>
  hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId && t.status === "complete");

describe("Slack answers and follow-ups", () => {
  it("when a step finishes, its answer is posted in the thread of the task's message", async () => {
    await setUp();
    const { task, ts } = await startedTask("Summarise the quarterly report");
    await expect
      .poll(() => finished(task.taskId) && inThread(ts).length === 1, {
        timeout: 10_000,
        message: "the answer in the thread",
      })
      .toBeTruthy();
    expect(inThread(ts)[0]?.params).toMatchObject({
      channel: CHANNEL,
      thread_ts: ts,
      text: "*Your task “Summarise the quarterly report”:*\necho: Summarise the quarterly report",
    });
    expect(fake.files.size).toBe(0);
  });

  it("a long answer is posted as its first part and the whole as a file in the thread (files.uploadV2)", async () => {
    const long = `${"Every figure matches the ledger. ".repeat(200)}THE END`;
    await setUp({ FAKE_CLI_REPLY: long });
    const { task, ts } = await startedTask("Write the long report");
    await expect
      .poll(() => [...fake.files.values()].some((f) => f.threadTs === ts), {
        timeout: 10_000,
        message: "the file in the thread",
      })
      .toBeTruthy();
    const [text] = inThread(ts);
    expect(String(text?.params.text).length).toBeLessThan(3100);
    expect(String(text?.params.text).endsWith("…")).toBe(true);
    const [file] = [...fake.files.values()];
    expect(file).toMatchObject({
      filename: `${task.taskId}-step-1.md`,
      content: long,
      length: Buffer.byteLength(long),
      channel: CHANNEL,
      threadTs: ts,
      title: "Your task “Write the long report”: the whole answer",
    });
    expect(fake.calls.map((c) => c.method).filter((m) => m.startsWith("files.") || m === "upload")).toEqual([
      "files.getUploadURLExternal",
      "upload",
      "files.completeUploadExternal",
    ]);
  });

  it("a person's reply in the task message's thread is a follow-up: acknowledged in the thread, run in the same task, answered there", async () => {
    await setUp();
    const { task, ts } = await startedTask("Gather the 2022 invoices");
    await expect.poll(() => inThread(ts).length === 1, { timeout: 10_000, message: "the first answer" }).toBeTruthy();
    const reply = {
      type: "message",
      channel: CHANNEL,
      user: "U1",
      text: "and also check the 2023 files",
      ts: "1800000000.000100",
      thread_ts: ts,
    };
    expect((await event({ type: "event_callback", event_id: "Ev100", event: reply })).status).toBe(200);
    // Slack delivers again (signed anew) when it thinks the first delivery failed: the same event acts once.
    const retry = Math.floor(Date.now() / 1000) + 1;
    expect((await event({ type: "event_callback", event_id: "Ev100", event: reply }, undefined, retry)).status).toBe(
      200,
    );
    await expect
      .poll(() => inThread(ts).length === 3, {
        timeout: 10_000,
        message: "the acknowledgement and the follow-up's answer",
      })
      .toBeTruthy();
    const texts = inThread(ts).map((c) => String(c.params.text));
    expect(texts).toContain("Added to your task “Gather the 2022 invoices” as step 2.");
    expect(texts).toContain(
      "*Your task “Gather the 2022 invoices”, step 2 (and also check the 2023 files):*\necho: and also check the 2023 files",
    );
    const transcript = await hubClient(hub).getTranscript(task.taskId);
    expect(transcript.entries.map((e) => [e.step, e.from])).toEqual([
      [1, null],
      [2, "slack"],
    ]);
    expect(allTasks()).toHaveLength(1);
  });
});
