// A task's conversation: a follow-up's first streamed output when the conversation is warm (the
// Claude process that answered the last turn is kept and takes the next message at once) against
// a cold resume (`claude --resume <id>`, a new process that loads first), in the same run, with a
// fake claude that takes 1 s to load.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { type RunningHub, startHub } from "../server/start.ts";
import { type Benchmark, type BenchRow, ms, percentile, verdict } from "./report.ts";

const LOAD_MS = 1_000;
const RUNS = 5;
const fakeBin = join(import.meta.dirname, "..", "test", "fixtures", "bin");

async function withHub<T>(conversationKeepMs: number, run: (hub: RunningHub) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-conversation-"));
  const hub = await startHub({
    config: parseConfig({
      port: 0,
      dataDir: join(dir, "data"),
      logLevel: "silent",
      backends: { claude: { kind: "claude" } },
      warmup: { firstPingDelayMs: 0 },
      router: { artifactsDir: join(dir, "artifacts"), conversationKeepMs },
    }),
    secrets: { token: null },
    logger: silentLogger,
    backendEnv: {
      PATH: `${fakeBin}${delimiter}${process.env.PATH ?? ""}`,
      FAKE_CLI_START_DELAY_MS: String(LOAD_MS),
      FAKE_CLI_STATE_DIR: join(dir, "conversations"),
    },
  });
  try {
    return await run(hub);
  } finally {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const finished = (hub: RunningHub, taskId: string) =>
  new Promise<void>((resolve) => {
    const check = () => {
      if (hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId)) {
        stop();
        resolve();
      }
    };
    const stop = hub.taskContext.document.subscribe(check);
    check();
  });

/** Milliseconds from a follow-up until its first streamed output reaches the task's lastUpdate. */
async function followUpToFirstOutput(hub: RunningHub, settle: () => Promise<void>): Promise<number> {
  const { taskId } = await hub.router.route({ description: "remember this", startedFrom: "cli" });
  await finished(hub, taskId);
  await settle();
  const started = performance.now();
  const seen = new Promise<number>((resolve) => {
    const check = () => {
      const task = hub.taskContext.getActiveTask(taskId);
      if (task?.lastUpdate.startsWith("step 2 of 2: ")) {
        stop();
        resolve(performance.now() - started);
      }
    };
    const stop = hub.taskContext.document.subscribe(check);
  });
  await hub.router.followUp(taskId, { text: "and what did I ask first?", channel: "cli" });
  const elapsed = await seen;
  await finished(hub, taskId);
  return elapsed;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

const conversation: Benchmark = {
  name: "conversation",
  async run(): Promise<BenchRow[]> {
    // Warm: the process is kept for 10 minutes. Cold: kept for 1 ms, so the follow-up resumes.
    const warm = await withHub(600_000, async (hub) => {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await followUpToFirstOutput(hub, async () => {}));
      return median(times);
    });
    const cold = await withHub(1, async (hub) => {
      const times: number[] = [];
      const pause = () => new Promise<void>((r) => setTimeout(r, 20));
      for (let i = 0; i < RUNS; i++) times.push(await followUpToFirstOutput(hub, pause));
      return median(times);
    });
    const ratio = cold / warm;
    return [
      {
        name: `conversation: a follow-up's first streamed output, conversation kept warm (fake claude loading ${LOAD_MS} ms; median of ${RUNS})`,
        figure: ms(warm, 1),
        comparison: `cold resume (claude --resume) ${ms(cold, 0)}`,
        ratio: `${ratio.toFixed(1)}× faster warm`,
        target: `≥ 5× — ${verdict(ratio >= 5)}`,
      },
    ];
  },
};

export default conversation;
