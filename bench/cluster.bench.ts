// Several hubs on one Redis against one hub in memory, in the same run: fan-out latency at
// 1,000 subscribers spread over three hubs (a change made on one hub), and acknowledged
// durable updates per second in bursts with Redis's `appendfsync always`.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisStore } from "../server/cluster/redis-store.ts";
import { parseConfig } from "../server/config.ts";
import { VersionedDocument } from "../server/document.ts";
import { DurableJsonFile } from "../server/durable-file.ts";
import { silentLogger } from "../server/log.ts";
import { type RunningHub, startHub } from "../server/start.ts";
import { createTaskContext, emptyContext, type TaskContext } from "../server/task-context.ts";
import { type Context, contextSchema } from "../shared/schemas.ts";
import { startRedis } from "../test/helpers/redis-server.ts";
import type { TriggerRequest } from "./fanout-harness.ts";
import { type Benchmark, type BenchRow, ms, percentile, sorted, verdict } from "./report.ts";
import { runHarness } from "./run-harness.ts";

const SUBSCRIBERS = 1000;
const CHANGES = 40;
const WARMUP = 10;
const ROUNDS = 2;
const TASK_ID = "route_cluster";
const BURST = 1000;
const BURSTS = 10;

const updates = (count: number): TriggerRequest[] =>
  Array.from({ length: count }, (_, i) => ({
    method: "PATCH",
    path: `/api/context/tasks/${TASK_ID}`,
    body: JSON.stringify({ lastUpdate: `step ${i} of the cluster run`, progress: (i % 100) / 100 }),
  }));

async function withHubs<T>(count: number, redisUrl: string | null, run: (urls: string[]) => Promise<T>): Promise<T> {
  const dirs: string[] = [];
  const hubs: RunningHub[] = [];
  // One prefix for all of them: hubs share documents only under the same keys.
  const store = redisUrl ? { kind: "redis", url: redisUrl, keyPrefix: `bench${Date.now()}` } : { kind: "memory" };
  try {
    for (let i = 0; i < count; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), "switchboard-cluster-bench-"));
      dirs.push(dataDir);
      hubs.push(
        await startHub({
          config: parseConfig({ port: 0, dataDir, logLevel: "silent", backends: {}, store }),
          secrets: { token: null },
          logger: silentLogger,
        }),
      );
    }
    await hubs[0]?.taskContext.addTask({ taskId: TASK_ID, description: "Cluster benchmark", startedFrom: "cli" });
    return await run(hubs.map((hub) => hub.url));
  } finally {
    for (const hub of hubs) await hub.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

async function fanout(redisUrl: string): Promise<BenchRow> {
  const single: number[] = [];
  const cluster: number[] = [];
  const triggers = updates(CHANGES + WARMUP);
  for (let round = 0; round < ROUNDS; round++) {
    const one = await withHubs(1, null, ([url]) =>
      runHarness({
        kind: "push",
        url: url as string,
        subscribers: SUBSCRIBERS,
        triggers,
        warmup: WARMUP,
      }),
    );
    const three = await withHubs(3, redisUrl, (urls) =>
      runHarness({
        kind: "push",
        url: urls[0] as string,
        socketUrls: urls,
        subscribers: SUBSCRIBERS,
        triggers,
        warmup: WARMUP,
      }),
    );
    single.push(...one.latencies);
    cluster.push(...three.latencies);
  }
  const s = sorted(single);
  const c = sorted(cluster);
  const ratio = percentile(c, 99) / percentile(s, 99);
  return {
    name: "cluster fan-out, REST change on one hub → receipt, 1,000 subscribers over 3 hubs on Redis (p50 / p99)",
    figure: `${ms(percentile(c, 50))} / ${ms(percentile(c, 99))}`,
    comparison: `1 hub in memory ${ms(percentile(s, 50))} / ${ms(percentile(s, 99))}`,
    ratio: `p99 ${ratio.toFixed(2)}× of one hub`,
    target: `p99 ≤ 1.5× one hub — ${verdict(ratio <= 1.5)}`,
  };
}

async function updatesPerSecond(taskContext: TaskContext): Promise<number> {
  const plan = { steps: Array.from({ length: 5 }, (_, i) => ({ title: `step ${i + 1}`, prompt: "x".repeat(200) })) };
  for (let i = 0; i < 20; i++)
    await taskContext.addTask({ taskId: `t${i}`, description: `task ${i}`, startedFrom: "cli", plan });
  const started = performance.now();
  let n = 0;
  for (let b = 0; b < BURSTS; b++) {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < BURST; i++, n++) {
      calls.push(taskContext.updateTask(`t${n % 20}`, { currentStep: (n % 5) + 1, lastUpdate: `update ${n}` }));
    }
    await Promise.all(calls);
  }
  return n / ((performance.now() - started) / 1000);
}

async function durable(redisUrl: string): Promise<BenchRow> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-cluster-durable-"));
  let memory: number;
  let shared: number;
  try {
    const file = new DurableJsonFile(join(dir, "active-context.json"), { fsync: true });
    memory = await updatesPerSecond(
      createTaskContext({ document: new VersionedDocument<Context>({ initial: emptyContext(Date.now()), file }) }),
    );
    await file.close();
    const store = new RedisStore({
      url: redisUrl,
      keyPrefix: `durable${Date.now()}`,
      historyLimit: 1000,
      logger: silentLogger,
    });
    const document = store.document("context", {
      initial: emptyContext(Date.now()),
      parse: (v) => contextSchema.parse(v),
    });
    await store.start();
    shared = await updatesPerSecond(createTaskContext({ document }));
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    name: `acknowledged durable updates/s, bursts of ${BURST.toLocaleString("en")}, Redis appendfsync always`,
    figure: `${Math.round(shared).toLocaleString("en")}/s`,
    comparison: `1 hub, fsync'd JSON file ${Math.round(memory).toLocaleString("en")}/s`,
    ratio: `${(shared / memory).toFixed(2)}× of the file`,
    target: `≥ 5,000/s — ${verdict(shared >= 5000)}`,
  };
}

async function run(): Promise<BenchRow[]> {
  const redis = await startRedis();
  try {
    return [await fanout(redis.url), await durable(redis.url)];
  } finally {
    await redis.stop();
  }
}

const benchmark: Benchmark = { name: "cluster", run };
export default benchmark;
