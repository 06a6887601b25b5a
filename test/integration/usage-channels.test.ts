// Usage and limits on the channels, against a real hub and the fake Telegram and Slack: `/usage`
// in Telegram, `switchboard usage` (table and --json), and a backend resting for a used-up
// limit (and back again) announced once per change in every configured chat and channel.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import { restingSentence } from "../../client/limit-phrasing.ts";
import { createSlackAdapter, type SlackAdapter } from "../../client/slack/adapter.ts";
import { createTelegramAdapter, type TelegramAdapter } from "../../client/telegram/adapter.ts";
import { usageMessage, usageTable } from "../../client/usage-view.ts";
import { ManualClock } from "../../shared/clock.ts";
import { fakeCliEnv } from "../fixtures/fake-cli-env.ts";
import { type FakeSlack, startFakeSlack } from "../fixtures/fake-slack.ts";
import { type FakeTelegram, startFakeTelegram } from "../fixtures/fake-telegram.ts";
import { hubClient, startTestHub, type TestHub } from "../helpers/hub.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "client", "cli", "bin.js");
const CHAT_A = 1001;
const CHAT_B = 1002;
const HOUR = 3_600_000;

let hub: TestHub | null = null;
let telegram: FakeTelegram | null = null;
let slack: FakeSlack | null = null;
const adapters: (TelegramAdapter | SlackAdapter)[] = [];
const clients: HubClient[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const adapter of adapters.splice(0)) await adapter.stop();
  for (const client of clients.splice(0)) client.close();
  await telegram?.close();
  await slack?.close();
  await hub?.stop();
  telegram = null;
  slack = null;
  hub = null;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const RUN = { costUsd: 0.0123, inputTokens: 100, outputTokens: 20, cacheReadTokens: 50, turns: 1 };

async function hubWithUsage(): Promise<TestHub> {
  hub = await startTestHub();
  await hub.usage.record("claude", RUN);
  await hub.usage.record("claude", RUN);
  await hub.usage.record("codex", { costUsd: 0, inputTokens: 100, outputTokens: 30, cacheReadTokens: 20, turns: 1 });
  return hub;
}

async function telegramAdapter(running: TestHub, clock: ManualClock) {
  telegram = await startFakeTelegram();
  const client = hubClient(running, { channel: "telegram" });
  const logged: string[] = [];
  const log = (line: string) => logged.push(line);
  const adapter = createTelegramAdapter({
    hub: client,
    token: telegram.token,
    chatIds: [CHAT_A, CHAT_B],
    apiRoot: telegram.apiRoot,
    timers: clock,
    pollTimeoutSeconds: 1,
    log: { info: log, warn: log, error: log },
  });
  adapters.push(adapter);
  await adapter.start();
  return adapter;
}

describe("Telegram /usage", () => {
  it("answers with today and the last 7 days per backend, as the shared phrasing says it", async () => {
    const running = await hubWithUsage();
    const clock = new ManualClock(Date.now());
    await telegramAdapter(running, clock);
    const updateId = telegram?.sendText(CHAT_A, "/usage") as number;
    await expect
      .poll(() => telegram?.handled(updateId) === true, { timeout: 5000, message: "the command to be handled" })
      .toBeTruthy();
    const reply = telegram?.chatCalls().find((c) => c.method === "sendMessage" && c.params.chat_id === CHAT_A);
    const text = String(reply?.params.text);
    expect(text).toBe(usageMessage(running.usage.getUsage(), clock.now()));
    expect(text).toContain("claude: today 2 runs, 200 in / 40 out tokens, $0.02");
  });
});

describe("switchboard usage", () => {
  const cli = (args: string[]) =>
    execa(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      reject: false,
      timeout: 20_000,
      env: { SWITCHBOARD_TOKEN: "", SWITCHBOARD_HUB: "" },
    });

  it("prints the table, exit 0; --json prints the usage document", async () => {
    const running = await hubWithUsage();
    const table = await cli(["usage", "--hub", running.url]);
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toBe(usageTable(running.usage.getUsage(), Date.now()));
    expect(table.stdout.split("\n")[1]).toMatch(/^claude\s+2\s+\$0\.02\s+2\s+200\s+40\s+\$0\.02$/);
    const json = await cli(["usage", "--json", "--hub", running.url]);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(running.usage.getUsage());
    expect(running.taskContext.getContext().channelHistory.cli).toBeDefined();
  });
});

describe("limit announcements", () => {
  it("claude resting and back again is announced once per change in every Telegram chat and Slack channel", async () => {
    const clock = new ManualClock();
    const { env } = await fakeCliEnv({
      FAKE_CLAUDE_RATE_LIMIT: "rejected",
      FAKE_CLAUDE_LIMIT_RESETS_AT: String(Math.floor(clock.now() / 1000) + 2 * 3600),
    });
    hub = await startTestHub({ config: { backends: { claude: { kind: "claude" } } }, backendEnv: env, clock });
    clock.advance(0);
    await expect
      .poll(() => hub?.warmStandby.getHealth("claude").lastPing !== null, {
        timeout: 10_000,
        message: "the first ping",
      })
      .toBeTruthy();
    await telegramAdapter(hub, clock);
    slack = await startFakeSlack();
    const slackClient = hubClient(hub, { channel: "slack" });
    const slackAdapter = createSlackAdapter({
      hub: slackClient,
      token: slack.token,
      channels: ["C1"],
      apiUrl: slack.apiUrl,
      timers: clock,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    adapters.push(slackAdapter);
    await slackAdapter.start();

    const said = (chatId: number) =>
      (telegram?.chatCalls() ?? [])
        .filter((c) => c.method === "sendMessage" && c.params.chat_id === chatId)
        .map((c) => String(c.params.text));
    const posted = () =>
      (slack?.calls ?? []).filter((c) => c.method === "chat.postMessage").map((c) => String(c.params.text));

    await hub.warmStandby
      .dispatch("claude", { prompt: "hi", onOutput: () => {}, signal: new AbortController().signal, timeoutMs: 20_000 })
      .catch(() => {});
    const resting = `${restingSentence("claude", hub.warmStandby.getHealth("claude"), clock.now())}.`;
    expect(resting).toContain("Claude is resting until");
    await expect
      .poll(() => said(CHAT_A).length === 1 && said(CHAT_B).length === 1 && posted().length === 1, {
        timeout: 5000,
        message: "the announcement",
      })
      .toBeTruthy();
    expect(said(CHAT_A)).toEqual([resting]);
    expect(said(CHAT_B)).toEqual([resting]);
    expect(posted()).toEqual([resting]);

    // A ping while limited changes the entry, not the status: nothing more is said.
    await hub.warmStandby.pingNow("claude");
    clock.advance(2 * HOUR);
    expect(hub.warmStandby.getHealth("claude").status).toBe("cold");
    await expect
      .poll(() => said(CHAT_A).length === 2 && said(CHAT_B).length === 2 && posted().length === 2, {
        timeout: 5000,
        message: "the return",
      })
      .toBeTruthy();
    expect(said(CHAT_A)).toEqual([resting, "Claude is available again."]);
    expect(posted()).toEqual([resting, "Claude is available again."]);
  });
});
