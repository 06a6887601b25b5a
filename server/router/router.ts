// The built-in router: takes a task from any channel, picks a backend by health and load, runs
// its steps through the warm standby (warm session when ready, else cold), and publishes every
// step through the session. Approvals, rejections and cancellations reach it as changes to the
// context document — the same change an external router sees.
import { dirname } from "node:path";
import { BackendFailure } from "../backends/backend.ts";
import { type Clock, systemClock } from "../clock.ts";
import { type Config, DEFAULT_CONFIG_PATH, parseConfig } from "../config.ts";
import { parseInput, SwitchboardError } from "../errors.ts";
import { type Logger, silentLogger } from "../log.ts";
import { LIMITS, type RouteRequest, routeRequestSchema, type Task } from "../schemas.ts";
import { newRouteId, type Session } from "../session.ts";
import type { Warmup } from "../warmup.ts";
import { type OutputLocation, resolveOutputPath, writeOutput } from "./artifacts.ts";
import { estimateDispatchTimes } from "./dispatch-estimate.ts";
import { type Candidate, type Choice, chooseBackend } from "./scoring.ts";
import { composeOutput, createThrottle, outputLine } from "./step-output.ts";

export type RouterSettings = Config["router"];

export interface RouterOptions {
  session: Session;
  warmup: Warmup;
  clock?: Clock;
  settings?: RouterSettings;
  logger?: Logger;
  /** Relative artifact paths are taken from here (default: the directory of config.json). */
  projectRoot?: string;
  newTaskId?: () => string;
}

interface RouteStep {
  title: string;
  prompt: string;
  requiresApproval: boolean;
}

/** A task the router runs: its plan, where it is, and how to stop it. */
interface Job {
  taskId: string;
  description: string;
  steps: RouteStep[];
  backend: string;
  /** Index of the next step to run. */
  next: number;
  outputs: string[];
  /** The step whose approval has been given, so it runs instead of asking again. */
  approvedStep: number | null;
  state: "queued" | "running" | "waiting";
  abort: AbortController | null;
  /** Backends that failed this task; a retry goes elsewhere. */
  failedOn: string[];
  output: OutputLocation;
}

interface Lane {
  queue: string[];
  /** Runs in progress: a token per run (a task can be queued again before its last run has settled). */
  running: Map<symbol, string>;
  prewarm: { at: number; cancel(): void } | null;
}

export type Router = ReturnType<typeof createRouter>;

export function createRouter(options: RouterOptions) {
  const { session, warmup } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const settings = options.settings ?? parseConfig({}).router;
  const projectRoot = options.projectRoot ?? dirname(DEFAULT_CONFIG_PATH);
  const newTaskId = options.newTaskId ?? newRouteId;

  const jobs = new Map<string, Job>();
  const lanes = new Map<string, Lane>(
    Object.keys(warmup.backends).map((name) => [name, { queue: [], running: new Map(), prewarm: null }]),
  );
  const runs = new Set<Promise<void>>();
  let unsubscribe: (() => void) | null = null;
  let reconcileQueued = false;
  let stopping = false;

  // ---- choosing ---------------------------------------------------------------------------

  function candidates(): Candidate[] {
    return [...lanes].map(([name, lane]) => {
      const entry = warmup.getHealth(name);
      return {
        name,
        status: entry.status,
        deadReason: entry.reason,
        queued: lane.queue.length,
        running: lane.running.size,
        concurrency: settings.concurrency,
        preference: warmup.backends[name]?.preference ?? 0,
      };
    });
  }

  const choose = (request: { explicit?: string | null; kind?: string | null; exclude?: string[] }): Choice =>
    chooseBackend({
      candidates: candidates(),
      kindPreferences: settings.kinds,
      ...(request.explicit ? { explicit: request.explicit } : {}),
      ...(request.kind ? { kind: request.kind } : {}),
      ...(request.exclude ? { exclude: request.exclude } : {}),
    });

  // ---- intake -----------------------------------------------------------------------------

  /** Registers the task at once (queued, with its backend and why) and queues it. */
  async function route(input: unknown): Promise<{ taskId: string; task: Task }> {
    if (stopping)
      throw new SwitchboardError("unavailable", "the hub is shutting down; send the task again once it is back");
    const request: RouteRequest = parseInput(routeRequestSchema, input, "route request");
    const choice = choose({ explicit: request.backend ?? null, kind: request.kind ?? null });
    const taskId = newTaskId();
    const output = locate(taskId, request.outputPath);
    const steps: RouteStep[] = request.steps?.map((s) => ({ ...s, requiresApproval: s.requiresApproval ?? false })) ?? [
      { title: truncate(request.description, LIMITS.title), prompt: request.description, requiresApproval: false },
    ];
    // One change: every subscriber sees the task with its backend and the reason at once.
    const added = session.addTask({
      taskId,
      description: request.description,
      startedFrom: request.startedFrom,
      status: "queued",
      plan: { steps: steps.map((s) => ({ title: s.title, prompt: s.prompt, requiresApproval: s.requiresApproval })) },
      lastUpdate: `queued on ${choice.backend}`,
      outputPath: output.display,
      kind: request.kind ?? null,
      backend: choice.backend,
      backendReason: choice.reason,
    });
    const job: Job = {
      taskId,
      description: request.description,
      steps,
      backend: choice.backend,
      next: 0,
      outputs: [],
      approvedStep: null,
      state: "queued",
      abort: null,
      failedOn: [],
      output,
    };
    try {
      const task = await added;
      logger.info(`task ${taskId} from ${request.startedFrom} queued on ${choice.reason}`);
      return { taskId, task };
    } finally {
      // A failed save leaves the task applied in memory (the error says so): it still runs.
      if (isActive(taskId)) {
        jobs.set(taskId, job);
        enqueue(job);
      }
    }
  }

  const locate = (taskId: string, requested?: string | null): OutputLocation =>
    resolveOutputPath({ artifactsDir: settings.artifactsDir, projectRoot, taskId, requested: requested ?? undefined });

  // ---- queues -----------------------------------------------------------------------------

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
    while (lane.running.size < settings.concurrency && lane.queue.length > 0) {
      const job = jobs.get(lane.queue.shift() as string);
      if (!job) continue;
      const token = Symbol(job.taskId);
      lane.running.set(token, job.taskId);
      job.state = "running";
      const run = runJob(job).finally(() => {
        lane.running.delete(token);
        runs.delete(run);
        pump(backend);
      });
      runs.add(run);
    }
    planPrewarm(backend);
  }

  /** When each queued task is expected to start, by backend. */
  function dispatchEstimates(): Record<string, { taskId: string; at: number }[]> {
    const now = clock.now();
    const result: Record<string, { taskId: string; at: number }[]> = {};
    for (const [name, lane] of lanes) {
      const remainingMs = (job: Job) => Math.max(1, job.steps.length - job.next) * settings.estimatedStepMs;
      const runningEndsAt = [...lane.running.values()].map((id) => {
        const eta = session.getActiveTask(id)?.eta;
        const job = jobs.get(id);
        return eta ? Date.parse(eta) : now + (job ? remainingMs(job) : settings.estimatedStepMs);
      });
      const queued = lane.queue.map((id) => jobs.get(id)).filter((job): job is Job => job !== undefined);
      const times = estimateDispatchTimes({
        now,
        concurrency: settings.concurrency,
        runningEndsAt,
        queuedDurationsMs: queued.map(remainingMs),
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
    const scheduled = warmup.scheduleAutoPrewarm(backend, next.at);
    lane.prewarm = scheduled ? { at: next.at, cancel: scheduled.cancel } : null;
  }

  // ---- running ----------------------------------------------------------------------------

  const isActive = (taskId: string): boolean => session.getContext().activeTasks.some((t) => t.taskId === taskId);

  async function runJob(job: Job): Promise<void> {
    try {
      while (job.next < job.steps.length) {
        if (!isActive(job.taskId) || stopping) return;
        const step = job.steps[job.next] as RouteStep;
        if (step.requiresApproval && job.approvedStep !== job.next) {
          await askApproval(job, step);
          return; // the slot is free while a person decides; approval queues the task again
        }
        job.outputs[job.next] = await runStep(job, step);
        job.next++;
      }
      await finish(job);
    } catch (error) {
      await failed(job, error);
    }
  }

  async function askApproval(job: Job, step: RouteStep): Promise<void> {
    job.state = "waiting";
    const number = job.next + 1;
    await session.updateTask(job.taskId, {
      status: "pending-approval",
      currentStep: number,
      awaitingApproval: { step: number, title: step.title, detail: step.prompt },
      lastUpdate: `step ${number} of ${job.steps.length} waits for approval: ${step.title}`,
    });
  }

  async function runStep(job: Job, step: RouteStep): Promise<string> {
    const number = job.next + 1;
    const total = job.steps.length;
    const abort = new AbortController();
    job.abort = abort;
    const label = `step ${number} of ${total}`;
    let streamed = "";
    const throttle = createThrottle(clock, settings.outputThrottleMs, (text) => {
      session.updateTask(job.taskId, { lastUpdate: `${label}: ${text}` }).catch(() => {
        // The task finished (cancelled, rejected) while output was still arriving.
      });
    });
    // The warm standby takes a ready session synchronously when dispatch is called, so what the
    // health document says now is what this step runs on.
    const warm = warmup.getHealth(job.backend).prewarmed.some((s) => s.state === "ready");
    const running = warmup.dispatch(job.backend, {
      prompt: step.prompt,
      signal: abort.signal,
      timeoutMs: settings.stepTimeoutMs,
      onOutput: (text) => {
        streamed += text;
        const line = outputLine(streamed);
        if (line) throttle.push(line);
      },
    });
    // Handled below; this keeps a rejection that arrives while the start is saved from counting as unhandled.
    running.catch(() => {});
    const started = session.updateTask(job.taskId, {
      status: "running",
      currentStep: number,
      lastUpdate: `${label} started: ${step.title}`,
      start: warm ? "warm" : "cold",
    });
    try {
      await started;
      const result = await running;
      throttle.cancel();
      if (!isActive(job.taskId)) throw new BackendFailure("cancelled");
      await session.updateTask(job.taskId, {
        progress: number / total,
        lastUpdate: `${label} done: ${step.title}`,
        ...(result.start !== (warm ? "warm" : "cold") ? { start: result.start } : {}),
      });
      planPrewarm(job.backend); // the new ETA moves the queued tasks' estimated starts
      return result.output;
    } catch (error) {
      throttle.cancel();
      abort.abort();
      await running.catch(() => {}); // the child is reaped before the failure is handled
      throw error;
    } finally {
      job.abort = null;
    }
  }

  async function finish(job: Job): Promise<void> {
    const text = composeOutput(job.description, job.steps, job.outputs);
    try {
      await writeOutput(job.output, text);
    } catch (error) {
      throw new BackendFailure(
        "output not written",
        `could not write ${job.output.display}: ${(error as Error).message}`,
      );
    }
    jobs.delete(job.taskId);
    if (!isActive(job.taskId)) return;
    await session.completeTask(job.taskId, {
      status: "complete",
      result: truncate(job.outputs[job.outputs.length - 1]?.trim() || "finished", LIMITS.result),
      outputPath: job.output.display,
    });
    logger.info(`task ${job.taskId} complete; output in ${job.output.display}`);
  }

  /** A step failed: retry once on the next-best backend when configured, else fail the task readably. */
  async function failed(job: Job, error: unknown): Promise<void> {
    // Shutting down: the task stays as it is, for the next start-up to recover.
    if (stopping || !isActive(job.taskId)) return;
    const step = job.steps[job.next];
    const where = step ? `step ${job.next + 1} of ${job.steps.length} (${step.title}) ` : "";
    // "failed: claude exited …" says "failed" twice once it follows "failed on claude".
    const why =
      error instanceof BackendFailure && error.reason === "failed"
        ? error.message.replace(/^failed: /, "")
        : error instanceof Error
          ? error.message
          : String(error);
    const message = `${where}failed on ${job.backend}: ${why}`;
    logger.warn(`task ${job.taskId}: ${message}`);
    job.failedOn.push(job.backend);
    if (settings.retryOnFailure && job.failedOn.length === 1 && error instanceof BackendFailure) {
      let next: Choice | null = null;
      try {
        next = choose({ exclude: job.failedOn });
      } catch {
        next = null;
      }
      if (next) {
        try {
          await session.updateTask(job.taskId, {
            status: "queued",
            backend: next.backend,
            backendReason: `retry after ${job.backend} failed; ${next.reason}`,
            lastUpdate: truncate(`${message}; retrying on ${next.backend}`, LIMITS.lastUpdate),
          });
        } catch {
          return; // finished meanwhile
        }
        job.backend = next.backend;
        enqueue(job);
        return;
      }
    }
    jobs.delete(job.taskId);
    await session
      .completeTask(job.taskId, { status: "failed", error: truncate(message, LIMITS.error) })
      .catch(() => {});
  }

  // ---- reacting to the context document -----------------------------------------------------

  /** Approved → queued again; gone from the active tasks (rejected, cancelled) → stopped. */
  function reconcile(): void {
    reconcileQueued = false;
    const active = new Map(session.getContext().activeTasks.map((t) => [t.taskId, t]));
    for (const job of [...jobs.values()]) {
      const task = active.get(job.taskId);
      if (!task) {
        jobs.delete(job.taskId);
        const lane = lanes.get(job.backend);
        if (lane) lane.queue = lane.queue.filter((id) => id !== job.taskId);
        if (job.abort) {
          logger.info(
            `task ${job.taskId} ended from outside (${session.getActiveTask(job.taskId)?.error}); stopping it`,
          );
          job.abort.abort();
        }
        if (lane) planPrewarm(job.backend);
        continue;
      }
      if (job.state === "waiting" && task.status === "running" && task.approval?.decision === "approved") {
        job.approvedStep = job.next;
        enqueue(job, true);
      }
    }
  }

  // ---- life cycle -------------------------------------------------------------------------

  /**
   * Subscribes to the context document and recovers what a previous hub left: its running tasks
   * fail with "hub restarted" (or are queued again), its queued and waiting tasks are taken up.
   */
  async function start(): Promise<void> {
    unsubscribe = session.document.subscribe(() => {
      // Listeners run inside the change; react once it (and any change applied with it) is done.
      if (reconcileQueued) return;
      reconcileQueued = true;
      queueMicrotask(reconcile);
    });
    for (const task of session.getContext().activeTasks) {
      if (!task.backendReason || jobs.has(task.taskId)) continue; // not the built-in router's task
      try {
        await recover(task);
      } catch (error) {
        logger.warn(`could not recover task ${task.taskId}: ${(error as Error).message}`);
      }
    }
  }

  async function recover(task: Task): Promise<void> {
    if (task.status === "running" && settings.onRestart === "fail") {
      await session.completeTask(task.taskId, { status: "failed", error: "hub restarted" });
      logger.info(`task ${task.taskId} was running when the hub stopped; failed with "hub restarted"`);
      return;
    }
    const steps: RouteStep[] = task.plan.steps.map((s) => ({
      title: s.title,
      prompt: s.prompt ?? task.description,
      requiresApproval: s.requiresApproval ?? false,
    }));
    const next = Math.min(Math.max(0, task.currentStep - 1), Math.max(0, steps.length - 1));
    const stillUsable = task.backend && lanes.has(task.backend) && warmup.getHealth(task.backend).status !== "dead";
    let backend: string;
    try {
      backend = stillUsable ? (task.backend as string) : choose({ kind: task.kind ?? null }).backend;
    } catch (error) {
      // Its backend is gone from config.json (or dead) and no other can take it: say so, not wait forever.
      await session.completeTask(task.taskId, {
        status: "failed",
        error: truncate((error as Error).message, LIMITS.error),
      });
      return;
    }
    const job: Job = {
      taskId: task.taskId,
      description: task.description,
      steps,
      backend,
      next,
      outputs: [],
      approvedStep: task.approval?.decision === "approved" && task.status !== "pending-approval" ? next : null,
      state: "queued",
      abort: null,
      failedOn: [],
      output: locate(task.taskId, task.outputPath ?? undefined),
    };
    jobs.set(task.taskId, job);
    if (task.status === "pending-approval") {
      job.state = "waiting";
      return;
    }
    await session.updateTask(task.taskId, {
      status: "queued",
      backend,
      lastUpdate: task.status === "running" ? "queued again after a hub restart" : `queued on ${backend}`,
    });
    enqueue(job);
  }

  /** Stops taking work and kills every running step; their tasks stay for the next start-up. */
  async function stop(): Promise<void> {
    if (stopping) return;
    stopping = true;
    unsubscribe?.();
    for (const lane of lanes.values()) {
      lane.prewarm?.cancel();
      lane.prewarm = null;
    }
    for (const job of jobs.values()) job.abort?.abort();
    await Promise.allSettled([...runs]);
  }

  return { route, start, stop, dispatchEstimates };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
