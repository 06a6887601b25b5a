// Durable task-context updates: acknowledged updateTask calls per second in bursts, with fsync'd group
// commit, and the file writes they cost; compared in the same run with one fsync'd write per update.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VersionedDocument } from "../server/document.ts";
import { DurableJsonFile } from "../server/durable-file.ts";
import { createTaskContext, emptyContext } from "../server/task-context.ts";
import { systemClock } from "../shared/clock.ts";
import type { Context } from "../shared/schemas.ts";
import { type Benchmark, type BenchRow, verdict } from "./report.ts";

/** A realistic context: this many active tasks with plans, and a full recentCompleted. */
const ACTIVE_TASKS = 20;
/** Burst sizes measured: one burst is issued at once and awaited before the next. */
const BURST_SIZES = [1_000, 100];
const UPDATES_PER_SIZE = 30_000;
const SEQUENTIAL_UPDATES = 300;
const TARGET_PER_SECOND = 20_000;
/** The case of many writers, each waiting for its acknowledgement before its next update. */
const WRITERS = 100;
const MAX_WRITES_PER_SECOND = 500;

async function openTaskContext(dir: string) {
  const file = new DurableJsonFile(join(dir, "active-context.json"), { fsync: true });
  const document = new VersionedDocument<Context>({ initial: emptyContext(Date.now()), file });
  const taskContext = createTaskContext({ document, clock: systemClock });
  const plan = { steps: Array.from({ length: 5 }, (_, i) => ({ title: `step ${i + 1}`, prompt: "x".repeat(200) })) };
  for (let i = 0; i < 10; i++) {
    await taskContext.addTask({ taskId: `done-${i}`, description: `finished task ${i}`, startedFrom: "cli", plan });
    await taskContext.completeTask(`done-${i}`, { result: "r".repeat(500) });
  }
  for (let i = 0; i < ACTIVE_TASKS; i++) {
    await taskContext.addTask({ taskId: `t${i}`, description: `task ${i}`, startedFrom: "voice", plan });
  }
  return { taskContext, file };
}

/** `count` updates spread over the active tasks, each a step move and a new progress line. */
function update(taskContext: Awaited<ReturnType<typeof openTaskContext>>["taskContext"], n: number) {
  return taskContext.updateTask(`t${n % ACTIVE_TASKS}`, { currentStep: (n % 5) + 1, lastUpdate: `update ${n}` });
}

async function measureBursts(dir: string, burstSize: number) {
  const { taskContext, file } = await openTaskContext(dir);
  const writesBefore = file.writes;
  const started = performance.now();
  let n = 0;
  for (let b = 0; b < UPDATES_PER_SIZE / burstSize; b++) {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < burstSize; i++) calls.push(update(taskContext, n++));
    await Promise.all(calls);
  }
  const seconds = (performance.now() - started) / 1000;
  const writes = file.writes - writesBefore;
  await file.close();
  return { perSecond: n / seconds, writes, writesPerSecond: writes / seconds, seconds, updates: n };
}

/** `writers` concurrent writers, each issuing its next update once the previous one is acknowledged. */
export async function measureWriters(dir: string, writers: number, total = UPDATES_PER_SIZE) {
  const { taskContext, file } = await openTaskContext(dir);
  const writesBefore = file.writes;
  const started = performance.now();
  let n = 0;
  const writer = async () => {
    while (n < total) await update(taskContext, n++);
  };
  await Promise.all(Array.from({ length: writers }, writer));
  const seconds = (performance.now() - started) / 1000;
  const writes = file.writes - writesBefore;
  await file.close();
  return { perSecond: n / seconds, writes, writesPerSecond: writes / seconds, seconds, updates: n };
}

async function measureOneWriteEach(dir: string) {
  const { taskContext, file } = await openTaskContext(dir);
  const writesBefore = file.writes;
  const started = performance.now();
  for (let n = 0; n < SEQUENTIAL_UPDATES; n++) await update(taskContext, n);
  const seconds = (performance.now() - started) / 1000;
  const writes = file.writes - writesBefore;
  await file.close();
  return { perSecond: SEQUENTIAL_UPDATES / seconds, writes };
}

const benchmark: Benchmark = {
  name: "durable",
  async run(): Promise<BenchRow[]> {
    const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-durable-"));
    try {
      // A warm-up run so that JIT compilation is not charged to the first figure.
      await measureBursts(join(dir, "warmup"), 1_000);
      const single = await measureOneWriteEach(join(dir, "single"));
      const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
      const rows: BenchRow[] = [];
      for (const size of BURST_SIZES) {
        const burst = await measureBursts(join(dir, `burst-${size}`), size);
        rows.push(
          {
            name: `acknowledged durable updates/s (bursts of ${fmt(size)}, fsync, ${ACTIVE_TASKS} active tasks)`,
            figure: `${fmt(burst.perSecond)}/s`,
            comparison: `one fsync'd write per update: ${fmt(single.perSecond)}/s`,
            ratio: `${(burst.perSecond / single.perSecond).toFixed(1)}× of one write per update`,
            target: `≥ ${fmt(TARGET_PER_SECOND)}/s — ${verdict(burst.perSecond >= TARGET_PER_SECOND)}`,
          },
          {
            name: `file writes for ${fmt(burst.updates)} acknowledged updates (bursts of ${fmt(size)})`,
            figure: `${fmt(burst.writes)} writes (${fmt(burst.writesPerSecond)}/s)`,
            comparison: `one write per update: ${fmt(single.writes)} writes for ${fmt(SEQUENTIAL_UPDATES)} updates`,
            ratio: `${(burst.updates / Math.max(1, burst.writes)).toFixed(0)} updates per write`,
            target: `≤ ${MAX_WRITES_PER_SECOND} writes/s — ${verdict(burst.writesPerSecond <= MAX_WRITES_PER_SECOND)}`,
          },
        );
      }
      // The case: many writers, each waiting for its acknowledgement before its next update.
      const writers = await measureWriters(join(dir, "writers-100"), WRITERS);
      const perWrite = writers.updates / Math.max(1, writers.writes);
      const cycleMs = (writers.seconds * 1000) / Math.max(1, writers.writes);
      rows.push({
        name: `acknowledged durable updates/s, ${WRITERS} concurrent writers each awaiting its acknowledgement (fsync, ${ACTIVE_TASKS} active tasks)`,
        figure: `${fmt(writers.perSecond)}/s (${fmt(writers.writes)} writes)`,
        comparison: `one fsync'd write per update: ${fmt(single.perSecond)}/s`,
        ratio: `${(writers.perSecond / single.perSecond).toFixed(1)}× of one write per update; ${perWrite.toFixed(0)} updates per write, one write every ${cycleMs.toFixed(1)} ms`,
        target: `≥ ${fmt(TARGET_PER_SECOND)}/s — ${verdict(writers.perSecond >= TARGET_PER_SECOND)}`,
      });
      benchmark.findings = [
        `Durable updates with ${WRITERS} writers: a writer sends its next update only once the last one is acknowledged, ` +
          `so a write can carry at most ${WRITERS} updates (here ${perWrite.toFixed(0)}), and the writers move in step: ` +
          "all are acknowledged by one write and all send again before the next starts, so the write begun while the " +
          "previous one's fsync is in flight has nothing to carry. The rate is then at most " +
          `${WRITERS} ÷ (one write's time: the new file's fsync, then its directory's after the rename, plus applying ` +
          `${WRITERS} updates); ${fmt(TARGET_PER_SECOND)}/s needs that to take ≤ ${((WRITERS / TARGET_PER_SECOND) * 1000).toFixed(1)} ms, ` +
          `and here it took ${cycleMs.toFixed(1)} ms. On this disk the target depends on how fast two fsyncs in a row are.`,
      ];
      return rows;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;
