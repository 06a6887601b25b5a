// The router's cost and its use of the warm standby, in a real hub on loopback: intake until a
// WebSocket subscriber sees the task (against a plain addTask in the same run), route to first
// streamed output on a pre-warmed session against a cold start (fake claude that loads for 1 s),
// and the pure backend choice per call.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import { createNodeHubClient } from "../client/node-hub-client.ts";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { type Candidate, chooseBackend } from "../server/router/scoring.ts";
import { type RunningHub, startHub } from "../server/start.ts";
import { type Benchmark, type BenchRow, ms, percentile, verdict } from "./report.ts";

const LOAD_MS = 1_000;
const INTAKE_RUNS = 200;
const START_RUNS = 3;
const fakeBin = join(import.meta.dirname, "..", "test", "fixtures", "bin");

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

async function withHub<T>(modes: Record<string, string>, run: (hub: RunningHub) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-router-"));
  const hub = await startHub({
    config: parseConfig({
      port: 0,
      dataDir: join(dir, "data"),
      logLevel: "silent",
      backends: { claude: { kind: "claude" } },
      router: { artifactsDir: join(dir, "artifacts"), concurrency: 1 },
    }),
    secrets: { token: null },
    logger: silentLogger,
    backendEnv: { PATH: `${fakeBin}${delimiter}${process.env.PATH ?? ""}`, ...modes },
  });
  try {
    return await run(hub);
  } finally {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Milliseconds from each request until a subscriber's mirror holds the task, p50 and p99. */
async function intakeTimes(hub: RunningHub, send: (i: number) => Promise<string>): Promise<number[]> {
  const client = createNodeHubClient({ url: hub.url, topics: ["context"] });
  await client.connect();
  const times: number[] = [];
  try {
    for (let i = 0; i < INTAKE_RUNS; i++) {
      const started = performance.now();
      const taskId = await send(i);
      while (!client.context?.activeTasks.some((t) => t.taskId === taskId)) {
        await new Promise((r) => setImmediate(r));
      }
      times.push(performance.now() - started);
    }
  } finally {
    client.close();
  }
  return times.sort((a, b) => a - b);
}

async function post(hub: RunningHub, path: string, body: unknown): Promise<{ taskId: string }> {
  const response = await fetch(`${hub.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { taskId: string };
}

/** Milliseconds from route until the task's first streamed output reaches its lastUpdate. */
async function routeToFirstOutput(hub: RunningHub, warm: boolean): Promise<number> {
  if (warm) {
    const session = hub.warmStandby.preWarm("claude");
    while (!hub.warmStandby.getHealth("claude").prewarmed.some((s) => s.id === session.id && s.state === "ready")) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // A pre-warmed session has had its lead time to load (30 s by default; the load is 1 s).
    await new Promise((r) => setTimeout(r, LOAD_MS + 200));
  }
  const started = performance.now();
  const { taskId } = await hub.router.route({ description: "benchmark", startedFrom: "cli" });
  return new Promise((resolve) => {
    const check = () => {
      const task = hub.taskContext.getActiveTask(taskId);
      if (task?.lastUpdate.startsWith("step 1 of 1: ") || task?.status === "complete") {
        stop();
        resolve(performance.now() - started);
      }
    };
    const stop = hub.taskContext.document.subscribe(check);
    check();
  });
}

async function untilIdle(hub: RunningHub): Promise<void> {
  while (hub.taskContext.getContext().activeTasks.length > 0) await new Promise((r) => setTimeout(r, 10));
}

const router: Benchmark = {
  name: "router",
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];

    // Intake only: the first routed task hangs and the rest stay queued, so no dispatch work
    // competes for the CPU while intake is timed.
    const [routed, added] = await withHub({ FAKE_CLI_HANG: "run" }, async (hub) => {
      await post(hub, "/api/context/tasks", { description: "warm-up", startedFrom: "cli" });
      const plain = await intakeTimes(hub, async (i) => {
        const { taskId } = await post(hub, "/api/context/tasks", { description: `plain ${i}`, startedFrom: "cli" });
        return taskId;
      });
      const viaRouter = await intakeTimes(hub, async (i) => {
        const { taskId } = await post(hub, "/api/route", { description: `routed ${i}`, startedFrom: "cli" });
        return taskId;
      });
      return [viaRouter, plain];
    });
    const routedP50 = percentile(routed, 50);
    const addedP50 = percentile(added, 50);
    rows.push({
      name: `router intake: POST /api/route until a WebSocket subscriber holds the task (p50 of ${INTAKE_RUNS}; p99 ${ms(percentile(routed, 99))})`,
      figure: ms(routedP50),
      comparison: `POST /api/context/tasks ${ms(addedP50)} (p99 ${ms(percentile(added, 99))})`,
      ratio: `${(routedP50 / addedP50).toFixed(2)}× of a plain addTask`,
      target: `≤ 2× — ${verdict(routedP50 <= 2 * addedP50)}`,
    });

    const [cold, warm] = await withHub({ FAKE_CLI_START_DELAY_MS: String(LOAD_MS) }, async (hub) => {
      const coldTimes: number[] = [];
      const warmTimes: number[] = [];
      for (let i = 0; i < START_RUNS; i++) {
        coldTimes.push(await routeToFirstOutput(hub, false));
        await untilIdle(hub);
        warmTimes.push(await routeToFirstOutput(hub, true));
        await untilIdle(hub);
      }
      return [median(coldTimes), median(warmTimes)];
    });
    rows.push({
      name: `router: route to first streamed output, pre-warmed session (fake claude loading ${LOAD_MS} ms; median of ${START_RUNS})`,
      figure: ms(warm, 0),
      comparison: `cold start ${ms(cold, 0)}`,
      ratio: `${(cold / warm).toFixed(1)}× faster warm`,
      target: `warm saves at least the ${LOAD_MS} ms load — ${verdict(cold - warm >= LOAD_MS * 0.9)}`,
    });

    const candidates: Candidate[] = ["claude", "codex", "ollama"].map((name, i) => ({
      name,
      status: (["warm", "healthy", "dead"] as const)[i] as Candidate["status"],
      queued: i,
      running: 1,
      concurrency: 1,
      preference: 2 - i,
    }));
    const calls = 200_000;
    const started = performance.now();
    for (let i = 0; i < calls; i++) chooseBackend({ candidates, kind: "code", kindPreferences: { code: ["codex"] } });
    const perCall = ((performance.now() - started) * 1000) / calls;
    rows.push({
      name: "router: choosing among 3 backends (pure scoring)",
      figure: `${perCall.toFixed(2)} µs per choice`,
      comparison: "—",
      ratio: "—",
      target: "negligible next to intake (well under 1% of it)",
    });
    return rows;
  },
};

export default router;
