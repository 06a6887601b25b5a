// Chat adapters: how soon a new task reaches Telegram (sendMessage) and Slack (chat.postMessage)
// after its REST addTask, against a Node SDK mirror hearing the same change in the same run;
// and how many Bot API calls a burst of updates to one task costs with throttling, against one
// call per update. The chat APIs are the local fakes the tests use.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeHubClient } from "../client/node-hub-client.ts";
import { createSlackAdapter } from "../client/slack/adapter.ts";
import { createTelegramAdapter } from "../client/telegram/adapter.ts";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { startHub } from "../server/start.ts";
import { startFakeSlack } from "../test/fixtures/fake-slack.ts";
import { startFakeTelegram } from "../test/fixtures/fake-telegram.ts";
import { type Benchmark, type BenchRow, ms, percentile, verdict } from "./report.ts";

const TASKS = 50;
const WARMUP = 5;
const BURST = 100;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

async function run(): Promise<BenchRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), "switchboard-bench-chat-"));
  const hub = await startHub({
    config: parseConfig({ port: 0, dataDir, logLevel: "silent", backends: {}, persistence: { fsync: false } }),
    secrets: { token: null },
    logger: silentLogger,
  });
  const telegramApi = await startFakeTelegram();
  const slackApi = await startFakeSlack();
  const telegram = createTelegramAdapter({
    hub: createNodeHubClient({ url: hub.url, channel: "telegram" }),
    token: telegramApi.token,
    chatIds: [1001],
    apiRoot: telegramApi.apiRoot,
    pollTimeoutSeconds: 1,
    log: quiet,
  });
  const slack = createSlackAdapter({
    hub: createNodeHubClient({ url: hub.url, channel: "slack" }),
    token: slackApi.token,
    channels: ["C0BENCH"],
    apiUrl: slackApi.apiUrl,
    log: quiet,
  });
  const sdk = createNodeHubClient({ url: hub.url, topics: ["context"] });
  try {
    await Promise.all([telegram.start(), slack.start(), sdk.connect()]);
    const mirrorSeen: Record<string, number> = {};
    sdk.on("task-progress", ({ task, previous }) => {
      if (!previous) mirrorSeen[task.taskId] ??= performance.now();
    });

    const sent: Record<string, number> = {};
    const telegramSeen: Record<string, number> = {};
    const slackSeen: Record<string, number> = {};
    for (let i = 0; i < WARMUP + TASKS; i++) {
      const taskId = `bench_${i}`;
      const posts = { telegram: telegramApi.calls.length, slack: slackApi.calls.length };
      sent[taskId] = performance.now();
      await sdk.addTask({ taskId, description: `Benchmark task ${i}`, startedFrom: "cli" });
      await waitFor(
        () =>
          telegramApi.calls.slice(posts.telegram).some((c) => c.method === "sendMessage") &&
          slackApi.calls.slice(posts.slack).some((c) => c.method === "chat.postMessage"),
        `task ${taskId} in both chats`,
      );
      telegramSeen[taskId] = telegramApi.calls.slice(posts.telegram).find((c) => c.method === "sendMessage")?.at ?? 0;
      slackSeen[taskId] = slackApi.calls.slice(posts.slack).find((c) => c.method === "chat.postMessage")?.at ?? 0;
      await sdk.completeTask(taskId);
    }
    const measured = Object.keys(sent).slice(WARMUP);
    const latency = (seen: Record<string, number>) =>
      measured.map((id) => (seen[id] as number) - (sent[id] as number)).sort((a, b) => a - b);
    const toTelegram = latency(telegramSeen);
    const toSlack = latency(slackSeen);
    const toMirror = latency(mirrorSeen);
    const mirrorP50 = percentile(toMirror, 50);

    // A burst: BURST updates to one task as fast as REST takes them.
    const burstTask = await sdk.addTask({
      taskId: "bench_burst",
      description: "Burst",
      startedFrom: "cli",
      totalSteps: BURST,
    });
    const burstMessage = () => [...telegramApi.messages.values()].find((m) => m.text.includes("bench_burst"));
    await waitFor(() => burstMessage() !== undefined, "the burst task's message");
    const messageId = burstMessage()?.messageId;
    const burstEdits = () =>
      telegramApi.chatCalls().filter((c) => c.method === "editMessageText" && c.params.message_id === messageId);
    const burstStart = performance.now();
    for (let step = 1; step <= BURST; step++) {
      await sdk.updateTask(burstTask.taskId, { currentStep: step, lastUpdate: `update ${step}` });
    }
    const burstMs = performance.now() - burstStart;
    await waitFor(() => burstMessage()?.text.includes(`update ${BURST}`) ?? false, "the burst's last state");
    const edits = burstEdits().length;
    const allowed = Math.floor(burstMs / 1000) + 2; // one per second, plus the one after the burst ends

    return [
      {
        name: `REST addTask → Telegram sendMessage (fake Bot API), p50 of ${TASKS}`,
        figure: ms(percentile(toTelegram, 50)),
        comparison: `Node SDK mirror ${ms(mirrorP50)}`,
        ratio: `${(percentile(toTelegram, 50) / mirrorP50).toFixed(2)}× of the mirror`,
        target: `p95 ${ms(percentile(toTelegram, 95))} ≤ 1000 ms — ${verdict(percentile(toTelegram, 95) <= 1000)}`,
      },
      {
        name: `REST addTask → Slack chat.postMessage (fake Web API), p50 of ${TASKS}`,
        figure: ms(percentile(toSlack, 50)),
        comparison: `Node SDK mirror ${ms(mirrorP50)}`,
        ratio: `${(percentile(toSlack, 50) / mirrorP50).toFixed(2)}× of the mirror`,
        target: `p95 ${ms(percentile(toSlack, 95))} ≤ 1000 ms — ${verdict(percentile(toSlack, 95) <= 1000)}`,
      },
      {
        name: `Telegram edits for a burst of ${BURST} updates over ${ms(burstMs, 0)}`,
        figure: `${edits} editMessageText`,
        comparison: `${BURST} calls at one per update`,
        ratio: `${(BURST / Math.max(1, edits)).toFixed(0)}× fewer calls`,
        target: `≤ 1 per second (${allowed}), last state shown — ${verdict(edits <= allowed)}`,
      },
    ];
  } finally {
    await telegram.stop();
    await slack.stop();
    sdk.close();
    await telegramApi.close();
    await slackApi.close();
    await hub.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const benchmark: Benchmark = { name: "chat", run };
export default benchmark;
