// The Telegram and Slack channels as real processes: started by the hub's entry point when
// config.json enables them, or on their own (`npm run telegram` / `npm run slack`); a missing
// token or chat list stops start-up with one line and exit status 2.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "../fixtures/fake-slack.ts";
import { type FakeTelegram, startFakeTelegram } from "../fixtures/fake-telegram.ts";
import { cleanEnv, HUB_ENTRY, runToExit, spawnEntry } from "../helpers/entry.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { signedSlackRequest } from "../helpers/slack-request.ts";

const _ROOT = join(import.meta.dirname, "..", "..");
const SIGNING_SECRET = "process-test-signing-secret";

let dir: string;
let children: ChildProcessWithoutNullStreams[] = [];
let telegram: FakeTelegram | null = null;
let slack: FakeSlack | null = null;
let hub: TestHub | null = null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-chat-"));
});
afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  children = [];
  await telegram?.close();
  await slack?.close();
  await hub?.stop();
  telegram = slack = hub = null;
  await rm(dir, { recursive: true, force: true });
});

function run(script: string, args: string[], env: NodeJS.ProcessEnv) {
  const started = spawnEntry(script, args, env);
  children.push(started.child);
  return started;
}

async function configFile(config: Record<string, unknown>): Promise<string> {
  const path = join(dir, "config.json");
  await writeFile(path, JSON.stringify({ port: 0, backends: {}, logLevel: "warn", ...config }));
  return path;
}

describe("start-up refuses an enabled channel that cannot work", () => {
  it.each([
    [
      "telegram without TELEGRAM_BOT_TOKEN",
      { telegram: { enabled: true, chatIds: [1] } },
      {},
      /TELEGRAM_BOT_TOKEN is not set/,
    ],
    [
      "telegram without chat ids",
      { telegram: { enabled: true } },
      { TELEGRAM_BOT_TOKEN: "1:x" },
      /telegram\.chatIds is empty/,
    ],
    [
      "slack without SLACK_SIGNING_SECRET",
      { slack: { enabled: true, channels: ["C1"] } },
      { SLACK_BOT_TOKEN: "xoxb" },
      /SLACK_SIGNING_SECRET is not set/,
    ],
    [
      "slack's endpoint without channels (startAdapter false)",
      { slack: { enabled: true, startAdapter: false } },
      { SLACK_SIGNING_SECRET: "s" },
      /slack\.channels is empty/,
    ],
    [
      "slack without SLACK_BOT_TOKEN",
      { slack: { enabled: true, channels: ["C1"] } },
      { SLACK_SIGNING_SECRET: "s" },
      /SLACK_BOT_TOKEN is not set/,
    ],
  ])("%s: exit status 2 and one line", async (_, config, env, message) => {
    const result = await runToExit(HUB_ENTRY, ["--config", await configFile(config), "--data-dir", dir], cleanEnv(env));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^switchboard: /);
    expect(lines[0]).toMatch(message);
  });

  it.each([
    ["client/telegram/main.ts", ["--chat", "1"], /^telegram: TELEGRAM_BOT_TOKEN is not set/],
    ["client/slack/main.ts", ["--channel", "C1"], /^slack: SLACK_BOT_TOKEN is not set/],
  ])("%s on its own without its token: exit status 2 and one line", async (script, args, message) => {
    const result = await runToExit(script, args, cleanEnv());
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});

describe("channels started by the hub's entry point", () => {
  it("posts a task to Telegram and Slack, answers a signed slash command, and stops cleanly on SIGTERM", async () => {
    telegram = await startFakeTelegram();
    slack = await startFakeSlack();
    const config = await configFile({
      telegram: { enabled: true, chatIds: [1001], apiRoot: telegram.apiRoot, pollTimeoutSeconds: 1 },
      slack: { enabled: true, channels: ["C0DEV"], apiUrl: slack.apiUrl },
    });
    const env = cleanEnv({
      TELEGRAM_BOT_TOKEN: telegram.token,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
    });
    const { child, output } = run(HUB_ENTRY, ["--config", config, "--data-dir", dir], env);
    await expect
      .poll(() => output.stdout.includes("dashboard at"), { timeout: 20_000, message: "the hub to start" })
      .toBeTruthy();
    const url = /listening on (http:\/\/\S+)/.exec(output.stdout)?.[1] as string;
    expect(output.stdout).toContain("switchboard: telegram bot serving chat(s) 1001");
    expect(output.stdout).toContain("switchboard: slack adapter posting to C0DEV");

    const added = await fetch(`${url}/api/context/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ description: "Analyze trust documents", startedFrom: "voice", totalSteps: 2 }),
    });
    expect(added.status).toBe(201);
    await expect
      .poll(() => telegram?.chatCalls().some((c) => c.method === "sendMessage") ?? false, {
        timeout: 10_000,
        message: "telegram",
      })
      .toBeTruthy();
    await expect
      .poll(() => slack?.calls.some((c) => c.method === "chat.postMessage") ?? false, {
        timeout: 10_000,
        message: "slack",
      })
      .toBeTruthy();

    // From a configured channel: slack.channels reaches the hub's endpoint.
    const body = new URLSearchParams({ command: "/switchboard", text: "status", channel_id: "C0DEV" }).toString();
    const command = await fetch(`${url}/api/slack/commands`, signedSlackRequest(body, { secret: SIGNING_SECRET }));
    expect(command.status).toBe(200);
    expect(((await command.json()) as { text: string }).text).toBe("One task running.");

    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});

describe("npm run telegram against a running hub", () => {
  it("posts each task to the configured chat and exits 0 on SIGTERM", async () => {
    hub = await startTestHub();
    telegram = await startFakeTelegram();
    const { child, output } = run(
      "client/telegram/main.ts",
      ["--hub", hub.url, "--chat", "1001", "--api-root", telegram.apiRoot],
      cleanEnv({ TELEGRAM_BOT_TOKEN: telegram.token }),
    );
    await expect
      .poll(() => output.stdout.includes("telegram: connected to the hub"), {
        timeout: 20_000,
        message: "the adapter to connect",
      })
      .toBeTruthy();
    await hub.taskContext.addTask({ description: "Summarise inbox", startedFrom: "cli" });
    await expect
      .poll(() => telegram?.chatCalls().some((c) => c.method === "sendMessage") ?? false, {
        timeout: 10_000,
        message: "the message",
      })
      .toBeTruthy();
    expect(String(telegram.chatCalls()[0]?.params.text)).toContain("Summarise inbox");
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
