// Issue 14 on the phone: the fake claude asks the hub's approval server about a Bash call and an
// Edit; Telegram and Slack show each in a code block with buttons bound to that one call, and a
// press there is the call's answer (allow, or deny with the reason) while the task goes on.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSlackAdapter, type SlackAdapter } from "../../client/slack/adapter.ts";
import { slackViews } from "../../client/slack/blocks.ts";
import { createTelegramAdapter, type TelegramAdapter } from "../../client/telegram/adapter.ts";
import { silentLogger } from "../../server/log.ts";
import { SLACK_INTERACTIONS_PATH, slackEndpoint } from "../../server/slack-endpoint.ts";
import { type FakeSlack, startFakeSlack } from "../fixtures/fake-slack.ts";
import { type FakeTelegram, startFakeTelegram } from "../fixtures/fake-telegram.ts";
import { hubClient } from "../helpers/hub.ts";
import { cleanupRouterHubs, finishedTask, repository, routerHub, toolWaiting } from "../helpers/router-hub.ts";
import { signedSlackRequest } from "../helpers/slack-request.ts";

const CHAT = 1001;
const CHANNEL = "C0DEV";
const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

let telegram: FakeTelegram | null = null;
let slack: FakeSlack | null = null;
let telegramAdapter: TelegramAdapter | null = null;
let slackAdapter: SlackAdapter | null = null;

afterEach(async () => {
  await telegramAdapter?.stop();
  await slackAdapter?.stop();
  await telegram?.close();
  await slack?.close();
  telegramAdapter = slackAdapter = null;
  telegram = slack = null;
  await cleanupRouterHubs();
});

/** Claude wants to run the tests, then to edit notes.txt: two calls of step 1, asked one after the other. */
const calls = (repo: string) => [
  { tool_name: "Bash", input: { command: "npm test", description: "Run the tests" } },
  { tool_name: "Edit", input: { file_path: join(repo, "notes.txt"), old_string: "two", new_string: "TWO" } },
];

async function toolHub(repo: string, plugins: NonNullable<Parameters<typeof routerHub>[0]>["plugins"] = []) {
  return routerHub({
    workspaces: { repo: { path: repo, claude: { permissionMode: "default" } } },
    router: { defaultWorkspace: "repo" },
    modes: { FAKE_CLAUDE_TOOL_CALLS: JSON.stringify(calls(repo)) },
    plugins,
  });
}

describe("tool approvals in Telegram", () => {
  it("shows each call's command or diff as a code block bound to that call; Approve allows the Bash call, Reject denies the Edit", async () => {
    const repo = await repository();
    const { hub, client } = await toolHub(repo);
    telegram = await startFakeTelegram();
    telegramAdapter = createTelegramAdapter({
      hub: hubClient(hub, { channel: "telegram" }),
      token: telegram.token,
      chatIds: [CHAT],
      apiRoot: telegram.apiRoot,
      minEditIntervalMs: 0,
      pollTimeoutSeconds: 1,
      log: quiet,
    });
    await telegramAdapter.start();
    const fake = telegram;
    const { taskId } = await client.route({ description: "tidy the notes", startedFrom: "cli" });
    const waitingOn = async (tool: string) => {
      const id = await toolWaiting(hub, taskId, tool);
      await expect
        .poll(() => JSON.stringify(fake.message(CHAT, 100)?.replyMarkup ?? null).includes(id), {
          timeout: 5000,
          message: `the message to show ${tool}`,
        })
        .toBeTruthy();
      return { id, message: fake.message(CHAT, 100) };
    };
    const codeOf = (message: { text: string; entities: unknown[] | null } | undefined) => {
      const [pre] = (message?.entities ?? []) as { type: string; offset: number; length: number; language?: string }[];
      return {
        language: pre?.language,
        text: message?.text.slice(pre?.offset, (pre?.offset ?? 0) + (pre?.length ?? 0)),
      };
    };
    const press = async (data: string) => {
      const update = fake.press(CHAT, 100, data);
      await expect.poll(() => fake.handled(update), { timeout: 5000, message: "the press" }).toBeTruthy();
      return fake
        .chatCalls()
        .filter((c) => c.method === "answerCallbackQuery")
        .at(-1)?.params.text;
    };

    const bash = await waitingOn("Bash");
    expect(codeOf(bash.message)).toEqual({ language: "bash", text: "npm test" });
    expect(await press(`approve:1:${bash.id}`)).toBe("Approved");

    const edit = await waitingOn("Edit");
    expect(codeOf(edit.message).language).toBe("diff");
    expect(codeOf(edit.message).text).toContain("-two\n+TWO");
    // The Bash call's button, still on someone's screen, cannot decide the Edit: the alert says why.
    expect(await press(`approve:1:${bash.id}`)).toMatch(
      /^Not done: task \S+ no longer waits on tool call tool_\w+; it now waits on Edit notes.txt/,
    );
    expect(hub.taskContext.getActiveTask(taskId)?.awaitingApproval?.id).toBe(edit.id);
    expect(await press(`reject:1:${edit.id}`)).toBe("Rejected");

    const done = await finishedTask(hub, taskId);
    expect(done.result).toBe(
      'Bash allowed: {"command":"npm test","description":"Run the tests"}\nEdit denied: rejected on telegram: rejected from Telegram',
    );
    expect(await readFile(join(repo, "notes.txt"), "utf8")).toBe("one\ntwo\nthree\n");
  });
});

describe("tool approvals in Slack", () => {
  it("shows each call in a code block with buttons naming it; a press through the hub's endpoint is that call's answer", async () => {
    const repo = await repository();
    slack = await startFakeSlack();
    const fake = slack;
    const endpoint = slackEndpoint({
      signingSecret: SIGNING_SECRET,
      access: { channels: [CHANNEL], userIds: ["U1"] },
      views: slackViews,
      hubToken: null,
      logger: silentLogger,
      responseOrigins: [fake.origin],
    });
    const { hub, client } = await toolHub(repo, [endpoint]);
    slackAdapter = createSlackAdapter({
      hub: hubClient(hub, { channel: "slack" }),
      token: fake.token,
      channels: [CHANNEL],
      apiUrl: fake.apiUrl,
      minEditIntervalMs: 0,
      log: quiet,
    });
    await slackAdapter.start();
    const { taskId } = await client.route({ description: "tidy the notes", startedFrom: "cli" });
    const message = () => [...fake.messages.values()].find((m) => m.threadTs === null);
    const blocks = () =>
      (message()?.blocks ?? []) as { type: string; text?: { text: string }; elements?: { value?: string }[] }[];
    const waitingOn = async (tool: string) => {
      const id = await toolWaiting(hub, taskId, tool);
      await expect
        .poll(() => JSON.stringify(blocks()).includes(id), { timeout: 5000, message: `the message to show ${tool}` })
        .toBeTruthy();
      const code = blocks().find((b) => b.type === "section" && b.text?.text.startsWith("```"))?.text?.text;
      const value = blocks().find((b) => b.type === "actions")?.elements?.[0]?.value as string;
      return { id, code, value };
    };
    const press = (action: "approve" | "reject", value: string) => {
      const body = new URLSearchParams({
        payload: JSON.stringify({
          type: "block_actions",
          user: { id: "U1" },
          channel: { id: CHANNEL },
          response_url: fake.responseUrl(),
          actions: [{ action_id: action, block_id: "switchboard_approval", value, type: "button" }],
        }),
      }).toString();
      return fetch(`${hub.url}${SLACK_INTERACTIONS_PATH}`, signedSlackRequest(body, { secret: SIGNING_SECRET }));
    };

    const bash = await waitingOn("Bash");
    expect(bash.code).toBe("```npm test```");
    expect(JSON.parse(bash.value)).toEqual({ taskId, step: 1, approvalId: bash.id });
    expect((await press("approve", bash.value)).status).toBe(200);

    const edit = await waitingOn("Edit");
    expect(edit.code).toContain("-two\n+TWO");
    // The Bash call's button cannot reject the Edit: the hub refuses and the person is told.
    expect((await press("reject", bash.value)).status).toBe(200);
    await expect
      .poll(() => fake.calls.some((c) => c.method === "response_url"), { timeout: 5000, message: "the private answer" })
      .toBeTruthy();
    expect(hub.taskContext.getActiveTask(taskId)?.awaitingApproval?.id).toBe(edit.id);
    expect((await press("approve", edit.value)).status).toBe(200);

    const done = await finishedTask(hub, taskId);
    expect(done.result).toBe(
      'Bash allowed: {"command":"npm test","description":"Run the tests"}\nEdit allowed: ' +
        JSON.stringify(calls(repo)[1]?.input),
    );
    expect(await readFile(join(repo, "notes.txt"), "utf8")).toBe("one\nTWO\nthree\n");
  });
});
