// Time from dispatch to first output, cold start versus a pre-warmed session: on the fake
// Claude CLI that takes one second to load, and on the real `claude` where it is on PATH
// (there only `--version` is timed: a prompt would need Anthropic's servers).
import { execFileSync } from "node:child_process";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import { claudeBackend } from "../server/backends/claude.ts";
import { backendSettingsSchema } from "../server/backends/settings.ts";
import { silentLogger } from "../server/log.ts";
import { systemClock } from "../shared/clock.ts";
import { type Benchmark, type BenchRow, ms, percentile, verdict } from "./report.ts";

const RUNS = 5;
const LOAD_MS = 1_000;
const settings = backendSettingsSchema.parse({ kind: "claude" });
const fakeBin = join(import.meta.dirname, "..", "test", "fixtures", "bin");
const deps = {
  clock: systemClock,
  logger: silentLogger,
  env: { PATH: `${fakeBin}${delimiter}${process.env.PATH ?? ""}`, FAKE_CLI_START_DELAY_MS: String(LOAD_MS) },
};

/** Dispatches one prompt and resolves with the milliseconds until its first output. */
async function firstOutputMs(warm: boolean): Promise<number> {
  const session = warm ? claudeBackend.prewarm(settings, deps, { id: "bench" }) : undefined;
  if (session) {
    await session.ready;
    // A pre-warmed session has had its lead time to load (30 s by default; the load is 1 s).
    await new Promise((r) => setTimeout(r, LOAD_MS + 200));
  }
  let first = 0;
  const started = performance.now();
  await claudeBackend.dispatch(settings, deps, {
    prompt: "benchmark",
    ...(session ? { session } : {}),
    onOutput: () => {
      first ||= performance.now() - started;
    },
    signal: new AbortController().signal,
    timeoutMs: 30_000,
  });
  return first;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

function realClaudeRows(): BenchRow[] {
  try {
    execFileSync("sh", ["-c", "command -v claude"], { stdio: "ignore" });
  } catch {
    return [
      {
        name: "real claude: dispatch to first output",
        figure: "skipped",
        comparison: "—",
        ratio: "—",
        target: "claude is not on PATH on this machine",
      },
    ];
  }
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    execFileSync("claude", ["--version"], { stdio: "ignore", timeout: 30_000 });
    times.push(performance.now() - started);
  }
  return [
    {
      name: "real claude: cold process start to exit (--version)",
      figure: ms(median(times), 0),
      comparison: "—",
      ratio: "—",
      target: "the floor a pre-warmed session skips; a prompt is not sent (it needs Anthropic's servers)",
    },
  ];
}

const benchmark: Benchmark = {
  name: "prewarm",
  async run() {
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      cold.push(await firstOutputMs(false));
      warm.push(await firstOutputMs(true));
    }
    const ratio = median(cold) / median(warm);
    return [
      {
        name: `fake claude (${LOAD_MS} ms load): dispatch to first output, pre-warmed (median of ${RUNS})`,
        figure: ms(median(warm), 1),
        comparison: `cold start ${ms(median(cold), 0)}`,
        ratio: `${ratio.toFixed(1)}× faster than cold`,
        target: `≥ 5× faster — ${verdict(ratio >= 5)}`,
      },
      ...realClaudeRows(),
    ];
  },
};

export default benchmark;
