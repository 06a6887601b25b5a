// Voice answer time: `answer()` computed from the adapter's live mirror, against a REST round
// trip to the same hub for the same documents (what a voice bridge without a mirror would do).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeHubClient } from "../client/node-hub-client.ts";
import { createSpeaker } from "../client/voice/speaker.ts";
import { createVoiceAdapter, voiceAnswer } from "../client/voice/voice-adapter.ts";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { startHub } from "../server/start.ts";
import type { Context, Health } from "../shared/schemas.ts";
import { type Benchmark, type BenchRow, ms, percentile, verdict } from "./report.ts";

const TASKS = 25;
const ANSWERS = 20_000;
const ROUND_TRIPS = 500;
const WARMUP = 200;
const TARGET_MS = 1; // issue 8: the voice channel answers from its mirror in under 1 ms

async function run(): Promise<BenchRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), "switchboard-bench-voice-"));
  const hub = await startHub({
    config: parseConfig({ port: 0, dataDir, logLevel: "silent", backends: {}, persistence: { fsync: false } }),
    secrets: { token: null },
    logger: silentLogger,
  });
  const client = createNodeHubClient({ url: hub.url, channel: "voice" });
  // Throttled for the whole run: one channel mark, not one per answer, as a person asking does.
  const adapter = createVoiceAdapter({ client, speaker: createSpeaker({ tts: null }), activeThrottleMs: 3_600_000 });
  const rest = createNodeHubClient({ url: hub.url });
  try {
    await adapter.start();
    const statuses = ["running", "queued", "pending-approval"] as const;
    for (let i = 0; i < TASKS; i++) {
      await hub.taskContext.addTask({
        taskId: `bench-${i}`,
        description: i % 2 ? `OCR batch ${i}` : "Summarize",
        startedFrom: "cli",
        status: statuses[i % 3],
        totalSteps: 4,
        currentStep: 2,
        progress: 0.4,
        eta: new Date(Date.now() + 12 * 60_000).toISOString(),
      });
    }
    for (let i = 0; i < 10; i++) await hub.taskContext.completeTask(`bench-${i}`, { outputPath: `artifacts/${i}.md` });
    const expected = hub.taskContext.getContext().activeTasks.length;
    while (client.context?.activeTasks.length !== expected) await new Promise((r) => setTimeout(r, 5));

    for (let i = 0; i < WARMUP; i++) adapter.answer();
    const answerTimes: number[] = [];
    for (let i = 0; i < ANSWERS; i++) {
      const started = performance.now();
      adapter.answer();
      answerTimes.push(performance.now() - started);
    }

    // The same sentence, but from documents fetched over REST each time.
    for (let i = 0; i < WARMUP / 10; i++) await rest.getContext();
    const restTimes: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const started = performance.now();
      const [context, health] = await Promise.all([rest.getContext(), rest.getHealth()]);
      voiceAnswer(context as Context, health as Health, Date.now());
      restTimes.push(performance.now() - started);
    }
    answerTimes.sort((a, b) => a - b);
    restTimes.sort((a, b) => a - b);
    const answerP50 = percentile(answerTimes, 50);
    const answerP99 = percentile(answerTimes, 99);
    const restP50 = percentile(restTimes, 50);
    const restP99 = percentile(restTimes, 99);
    return [
      {
        name: `voice answer() from the mirror, ${expected} active tasks, p50 / p99 of ${ANSWERS.toLocaleString("en")}`,
        figure: `${ms(answerP50, 4)} / ${ms(answerP99, 4)}`,
        comparison: `REST GET context + health then phrase ${ms(restP50)} / ${ms(restP99)}`,
        ratio: `${(restP50 / answerP50).toFixed(0)}× faster at p50`,
        target: `p99 < ${TARGET_MS} ms — ${verdict(answerP99 < TARGET_MS)}`,
      },
    ];
  } finally {
    await adapter.stop();
    rest.close();
    await hub.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const bench: Benchmark = { name: "voice", run };
export default bench;
