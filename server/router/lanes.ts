// One lane per backend: its queue, the runs in progress (at most `concurrency`), and the one
// automatic pre-warm kept ahead of the next queued task's estimated start. A lane whose backend
// is limited starts nothing until the limit ends (its queued tasks' estimates move to the reset).
import type { Clock } from "../../shared/clock.ts";
import type { RouterSettings } from "../config.ts";
import type { TaskContext } from "../task-context.ts";
import type { WarmStandby } from "../warm-standby/warm-standby.ts";
import { estimateDispatchTimes } from "./dispatch-estimate.ts";
import { type Job, remainingMs } from "./jobs.ts";

interface Lane {
  queue: string[];
  /** Runs in progress: a token per run (a task can be queued again before its last run has settled). */
  running: Map<symbol, string>;
  prewarm: { at: number; cancel(): void } | null;
}

/**
 * Which queued tasks start now: the first ones still known, up to the free slots. `queue` is
 * what stays queued (ids no longer known are dropped on the way).
 */
export function nextJobs(input: {
  queue: readonly string[];
  running: number;
  concurrency: number;
  known: (taskId: string) => boolean;
}): { start: string[]; queue: string[] } {
  const queue = [...input.queue];
  const start: string[] = [];
  while (input.running + start.length < input.concurrency && queue.length > 0) {
    const id = queue.shift() as string;
    if (input.known(id)) start.push(id);
  }
  return { start, queue };
}

export interface LanesOptions {
  backends: string[];
  jobs: ReadonlyMap<string, Job>;
  taskContext: TaskContext;
  warmStandby: WarmStandby;
  clock: Clock;
  settings: RouterSettings;
  /** Runs a job that has taken a slot; the slot frees when the promise settles. */
  run: (job: Job) => Promise<void>;
  /** Until when a backend takes no new run (it is limited), or null. */
  heldUntil: (backend: string) => number | null;
}

export type Lanes = ReturnType<typeof createLanes>;

export function createLanes(options: LanesOptions) {
  const { jobs, taskContext, warmStandby, clock, settings } = options;
  const lanes = new Map<string, Lane>(
    options.backends.map((name) => [name, { queue: [], running: new Map(), prewarm: null }]),
  );
  const runs = new Set<Promise<void>>();
  let stopping = false;

  function enqueue(job: Job, front = false): void {
    const lane = lanes.get(job.backend);
    if (!lane) return;
    job.state = "queued";
    if (front) lane.queue.unshift(job.taskId);
    else lane.queue.push(job.taskId);
    pump(job.backend);
  }

  function pump(backend: string): void {
    const lane = lanes.get(backend);
    if (!lane || stopping) return;
    if (options.heldUntil(backend) !== null) {
      planPrewarm(backend);
      return;
    }
    const { start, queue } = nextJobs({
      queue: lane.queue,
      running: lane.running.size,
      concurrency: settings.concurrency,
      known: (id) => jobs.has(id),
    });
    lane.queue = queue;
    for (const id of start) {
      const job = jobs.get(id) as Job;
      const token = Symbol(job.taskId);
      lane.running.set(token, job.taskId);
      job.state = "running";
      const run = options.run(job).finally(() => {
        lane.running.delete(token);
        runs.delete(run);
        pump(backend);
      });
      runs.add(run);
    }
    planPrewarm(backend);
  }

  /** Takes a task out of its lane's queue (it ended from outside). */
  function remove(job: Job): void {
    const lane = lanes.get(job.backend);
    if (!lane) return;
    lane.queue = lane.queue.filter((id) => id !== job.taskId);
    planPrewarm(job.backend);
  }

  /** When each queued task is expected to start, by backend. */
  function dispatchEstimates(): Record<string, { taskId: string; at: number }[]> {
    const result: Record<string, { taskId: string; at: number }[]> = {};
    for (const [name, lane] of lanes) {
      const now = Math.max(clock.now(), options.heldUntil(name) ?? 0);
      const runningEndsAt = [...lane.running.values()].map((id) => {
        const eta = taskContext.getActiveTask(id)?.eta;
        const job = jobs.get(id);
        return eta
          ? Date.parse(eta)
          : now + (job ? remainingMs(job, settings.estimatedStepMs) : settings.estimatedStepMs);
      });
      const queued = lane.queue.map((id) => jobs.get(id)).filter((job): job is Job => job !== undefined);
      const times = estimateDispatchTimes({
        now,
        concurrency: settings.concurrency,
        runningEndsAt,
        queuedDurationsMs: queued.map((job) => remainingMs(job, settings.estimatedStepMs)),
      });
      result[name] = queued.map((job, i) => ({ taskId: job.taskId, at: times[i] as number }));
    }
    return result;
  }

  /** Keeps one automatic pre-warm scheduled ahead of the next queued task's estimated start. */
  function planPrewarm(backend: string): void {
    const lane = lanes.get(backend);
    if (!lane) return;
    const next = dispatchEstimates()[backend]?.[0];
    if (!next || stopping) {
      lane.prewarm?.cancel();
      lane.prewarm = null;
      return;
    }
    // Small drifts in the estimate do not reschedule: a second is far below the lead time.
    if (lane.prewarm && Math.abs(lane.prewarm.at - next.at) < 1000) return;
    lane.prewarm?.cancel();
    const scheduled = warmStandby.scheduleAutoPrewarm(backend, next.at);
    lane.prewarm = scheduled ? { at: next.at, cancel: scheduled.cancel } : null;
  }

  /** The load the scoring weighs: tasks queued and running per backend. */
  function load(name: string): { queued: number; running: number } {
    const lane = lanes.get(name);
    return { queued: lane?.queue.length ?? 0, running: lane?.running.size ?? 0 };
  }

  /** Stops starting runs and cancels the pre-warms; resolves when every run in progress has settled. */
  async function stop(): Promise<void> {
    stopping = true;
    for (const lane of lanes.values()) {
      lane.prewarm?.cancel();
      lane.prewarm = null;
    }
    await Promise.allSettled([...runs]);
  }

  /** The ids queued on a backend, in order. */
  const queued = (backend: string): string[] => [...(lanes.get(backend)?.queue ?? [])];

  return {
    names: () => [...lanes.keys()],
    queued,
    /** Starts what can start on every lane (a limit has ended). */
    pumpAll: () => {
      for (const name of lanes.keys()) pump(name);
    },
    has: (name: string) => lanes.has(name),
    enqueue,
    remove,
    planPrewarm,
    dispatchEstimates,
    load,
    stop,
  };
}
