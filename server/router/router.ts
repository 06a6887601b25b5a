// The built-in router: takes a task from any channel, picks a backend by health and load, runs
// its steps through the warm standby (warm session when ready, else cold), and publishes every
// step through the task context. Approvals, rejections and cancellations reach it as changes to the
// context document — the same change an external router sees. The parts: jobs.ts (what runs),
// lanes.ts (queues per backend), run-step.ts (one step), retry.ts and recovery.ts (decisions).
import { dirname } from "node:path";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { LIMITS, type RouteRequest, routeRequestSchema, type Task } from "../../shared/schemas.ts";
import { BackendFailure, BackendLimited } from "../backends/backend.ts";
import { soleClaims, type WorkClaims } from "../cluster/leases.ts";
import { type Config, DEFAULT_CONFIG_PATH } from "../config.ts";
import { invalidInput, parseInput, SwitchboardError } from "../errors.ts";
import { type Logger, silentLogger } from "../log.ts";
import { findTask, newRouteId, type TaskContext, truncate } from "../task-context.ts";
import { localTimeZone } from "../time-zone.ts";
import { answersByStep, type Transcripts } from "../transcripts.ts";
import type { UsageBook } from "../usage/usage.ts";
import type { WarmStandby } from "../warm-standby/warm-standby.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import type { Workspaces } from "../workspaces/workspaces.ts";
import { type OutputLocation, resolveOutputPath, writeOutput } from "./artifacts.ts";
import { createFollowUps } from "./follow-ups.ts";
import { type Job, newJob, stepsOfRequest, stepsOfTask } from "./jobs.ts";
import { createLanes } from "./lanes.ts";
import { createLimitedBackends } from "./limited-backends.ts";
import { recoveryPlan } from "./recovery.ts";
import { failureMessage, shouldRetry } from "./retry.ts";
import { createStepRunner } from "./run-step.ts";
import { type Candidate, type Choice, chooseBackend } from "./scoring.ts";
import { composeOutput } from "./step-output.ts";
import { createWarmConversations } from "./warm-conversations.ts";

export type RouterSettings = Config["router"];

export interface RouterOptions {
  taskContext: TaskContext;
  warmStandby: WarmStandby;
  /** The `router` section of the parsed config.json. */
  settings: RouterSettings;
  /** Where every step's answer is kept (`data/transcripts/`). */
  transcripts: Transcripts;
  clock?: Clock;
  logger?: Logger;
  /** Relative artifact paths are taken from here (default: the directory of config.json). */
  projectRoot?: string;
  newTaskId?: () => string;
  /** The configured workspaces; absent: every task runs where the warm standby starts CLIs. */
  workspaces?: Workspaces;
  /**
   * Which hub runs a task when several share one store (a lease per task); one hub alone runs
   * them all. With shared claims the router also takes over the tasks of a hub that died.
   */
  claims?: WorkClaims;
  /** Where each run's usage is tallied (the `usage` document). */
  usage?: UsageBook;
  /** The zone limit reset times are told in ("Claude is limited until 14:05"); the hub's own by default. */
  timeZone?: string;
}

export type Router = ReturnType<typeof createRouter>;

export function createRouter(options: RouterOptions) {
  const { taskContext, warmStandby, settings, transcripts } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const projectRoot = options.projectRoot ?? dirname(DEFAULT_CONFIG_PATH);
  const newTaskId = options.newTaskId ?? newRouteId;
  const claims = options.claims ?? soleClaims;
  const taskLease = (taskId: string) => `task:${taskId}`;

  const jobs = new Map<string, Job>();
  const limits = createLimitedBackends({
    taskContext,
    warmStandby,
    jobs,
    lanes: () => lanes,
    settings,
    clock,
    logger,
    timeZone: options.timeZone ?? localTimeZone(),
    choose: (request) => choose(request),
    isStopping: () => stopping,
  });
  const lanes = createLanes({
    backends: Object.keys(warmStandby.backends),
    jobs,
    taskContext,
    warmStandby,
    clock,
    settings,
    run: (job) => runJob(job),
    heldUntil: (name) => limits.limitedUntil(name),
  });
  const isActive = (taskId: string): boolean => taskContext.getContext().activeTasks.some((t) => t.taskId === taskId);
  const conversations = createWarmConversations({
    clock,
    keepMs: settings.conversationKeepMs,
    max: settings.maxWarmConversations,
  });
  const steps = createStepRunner({
    taskContext,
    warmStandby,
    clock,
    settings,
    transcripts,
    conversations,
    isActive,
    onStepDone: (job) => lanes.planPrewarm(job.backend),
    ...(options.usage ? { usage: options.usage } : {}),
  });
  let unsubscribe: (() => void) | null = null;
  let unsubscribeHealth: (() => void) | null = null;
  let reconcileQueued = false;
  let stopping = false;
  let adoptTimer: NodeJS.Timeout | null = null;

  /** The router is done with a task here: another hub may never need to take it over. */
  function forget(taskId: string): void {
    jobs.delete(taskId);
    claims.release(taskLease(taskId)).catch(() => {});
  }

  // ---- choosing ---------------------------------------------------------------------------

  function candidates(): Candidate[] {
    return lanes.names().map((name) => {
      const entry = warmStandby.getHealth(name);
      return {
        name,
        status: entry.status,
        deadReason: entry.reason,
        limitedUntil: entry.limitedUntil ?? null,
        limitReason: entry.limitReason ?? null,
        ...lanes.load(name),
        concurrency: settings.concurrency,
        preference: warmStandby.backends[name]?.preference ?? 0,
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
      waitForLimits: settings.onRateLimit === "wait",
    });

  const locate = (taskId: string, requested?: string | null): OutputLocation =>
    resolveOutputPath({ artifactsDir: settings.artifactsDir, projectRoot, taskId, requested: requested ?? undefined });

  // ---- intake -----------------------------------------------------------------------------

  /** Registers the task at once (queued, with its backend and why) and queues it. */
  async function route(input: unknown): Promise<{ taskId: string; task: Task }> {
    if (stopping)
      throw new SwitchboardError("unavailable", "the hub is shutting down; send the task again once it is back");
    const request: RouteRequest = parseInput(routeRequestSchema, input, "route request");
    if (request.workspace !== undefined && !options.workspaces) {
      throw invalidInput("workspace: this hub has no workspaces configured");
    }
    const workspace = options.workspaces?.resolveWorkspace(request.workspace ?? null);
    const choice = choose({ explicit: request.backend ?? null, kind: request.kind ?? null });
    const taskId = newTaskId();
    const job = newJob({
      taskId,
      description: request.description,
      steps: stepsOfRequest(request),
      backend: choice.backend,
      output: locate(taskId, request.outputPath),
      workspace,
    });
    // One change: every subscriber sees the task with its backend and the reason at once.
    const added = taskContext.addTask({
      taskId,
      description: request.description,
      startedFrom: request.startedFrom,
      status: "queued",
      plan: {
        steps: job.steps.map((s) => ({ title: s.title, prompt: s.prompt, requiresApproval: s.requiresApproval })),
      },
      lastUpdate: `queued on ${choice.backend}`,
      outputPath: job.output.display,
      kind: request.kind ?? null,
      backend: choice.backend,
      backendReason: choice.reason,
      ...(workspace ? { workspace: workspace.name } : {}),
    });
    try {
      const task = await added;
      // A new id: the claim is this hub's; it says to other hubs that the task is being run.
      await claims.claim(taskLease(taskId));
      logger.info(`task ${taskId} from ${request.startedFrom} queued on ${choice.reason}`);
      return { taskId, task };
    } finally {
      // A failed save leaves the task applied in memory (the error says so): it still runs.
      if (isActive(taskId)) {
        jobs.set(taskId, job);
        lanes.enqueue(job);
      }
    }
  }

  // ---- running ----------------------------------------------------------------------------

  async function runJob(job: Job): Promise<void> {
    try {
      // A follow-up can add a step while the last one finishes: the job runs until none is left.
      do {
        while (job.next < job.steps.length) {
          if (!isActive(job.taskId) || stopping) return;
          const step = job.steps[job.next] as Job["steps"][number];
          if (step.requiresApproval && job.approvedStep !== job.next) {
            await steps.askApproval(job, step);
            return; // the slot is free while a person decides; approval queues the task again
          }
          await steps.runStep(job, step);
          job.next++;
        }
      } while (!(await finish(job)));
    } catch (error) {
      await failed(job, error);
    }
  }

  /** Writes every answer so far to the output file and completes the task, unless a step was added meanwhile. */
  async function finish(job: Job): Promise<boolean> {
    const answers = answersByStep((await transcripts.read(job.taskId)) ?? []);
    try {
      await writeOutput(job.output, composeOutput(job.description, answers));
    } catch (error) {
      throw new BackendFailure(
        "output not written",
        `could not write ${job.output.display}: ${(error as Error).message}`,
      );
    }
    if (job.next < job.steps.length) return false;
    forget(job.taskId);
    if (!isActive(job.taskId)) return true;
    await taskContext.completeTask(job.taskId, {
      status: "complete",
      result: truncate(answers[answers.length - 1]?.answer.trim() || "finished", LIMITS.result),
      outputPath: job.output.display,
    });
    logger.info(`task ${job.taskId} complete; output in ${job.output.display}`);
    return true;
  }

  /** A step failed: retry once on the next-best backend when configured, else fail the task readably. */
  async function failed(job: Job, error: unknown): Promise<void> {
    // Shutting down: the task stays as it is, for the next start-up to recover.
    if (stopping || !isActive(job.taskId)) return;
    const step = job.steps[job.next];
    const message = failureMessage(
      step ? { number: job.next + 1, total: job.steps.length, title: step.title } : null,
      job.backend,
      error,
    );
    logger.warn(`task ${job.taskId}: ${message}`);
    if (error instanceof BackendLimited) {
      await limits.limited(job, error.limit.until);
      return;
    }
    job.failedOn.push(job.backend);
    if (shouldRetry({ retryOnFailure: settings.retryOnFailure, failedOn: job.failedOn, error })) {
      let next: Choice | null = null;
      try {
        next = choose({ exclude: job.failedOn });
      } catch {
        next = null;
      }
      if (next) {
        try {
          await taskContext.updateTask(job.taskId, {
            status: "queued",
            backend: next.backend,
            backendReason: `retry after ${job.backend} failed; ${next.reason}`,
            lastUpdate: truncate(`${message}; retrying on ${next.backend}`, LIMITS.lastUpdate),
          });
        } catch {
          return; // finished meanwhile
        }
        job.backend = next.backend;
        lanes.enqueue(job);
        return;
      }
    }
    forget(job.taskId);
    await taskContext
      .completeTask(job.taskId, { status: "failed", error: truncate(message, LIMITS.error) })
      .catch(() => {});
  }

  // ---- follow-ups ---------------------------------------------------------------------------

  /** The task's own backend while it is configured and not dead; else the best one now. */
  function usableBackend(task: Task): { backend: string; reason: string } {
    const status = task.backend && lanes.has(task.backend) ? warmStandby.getHealth(task.backend).status : "dead";
    // A limited backend keeps its tasks only when they are to wait for it.
    if (task.backend && status !== "dead" && (status !== "limited" || settings.onRateLimit === "wait")) {
      return { backend: task.backend, reason: task.backendReason ?? task.backend };
    }
    const choice = choose({ kind: task.kind ?? null });
    return { backend: choice.backend, reason: choice.reason };
  }

  const followUps = createFollowUps({
    taskContext,
    transcripts,
    jobs,
    lanes,
    logger,
    locate,
    usableBackend,
    workspaceOf: (task) => options.workspaces?.resolveWorkspace(task.workspace ?? null),
    isStopping: () => stopping,
    claim: (taskId) => claims.claim(taskLease(taskId)),
  });

  // ---- reacting to the context document -----------------------------------------------------

  /** Approved → queued again; gone from the active tasks (rejected, cancelled) → stopped. */
  function reconcile(): void {
    reconcileQueued = false;
    const active = new Map(taskContext.getContext().activeTasks.map((t) => [t.taskId, t]));
    for (const job of [...jobs.values()]) {
      const task = active.get(job.taskId);
      if (!task) {
        forget(job.taskId);
        if (job.abort) {
          logger.info(
            `task ${job.taskId} ended from outside (${taskContext.getActiveTask(job.taskId)?.error}); stopping it`,
          );
          job.abort.abort();
        }
        lanes.remove(job);
        continue;
      }
      if (job.state === "waiting" && task.status === "running" && task.approval?.decision === "approved") {
        job.approvedStep = job.next;
        lanes.enqueue(job, true);
      }
    }
    // A conversation is kept while its task may still take a follow-up.
    const context = taskContext.getContext();
    conversations.retain((id) => findTask(context, id) !== null);
  }

  // ---- life cycle -------------------------------------------------------------------------

  /**
   * Subscribes to the context document and recovers what a previous hub left: its running tasks
   * fail with "hub restarted" (or are queued again), its queued and waiting tasks are taken up.
   */
  async function start(): Promise<void> {
    unsubscribeHealth = limits.follow();
    unsubscribe = taskContext.document.subscribe(() => {
      // Listeners run inside the change; react once it (and any change applied with it) is done.
      if (reconcileQueued) return;
      reconcileQueued = true;
      queueMicrotask(reconcile);
    });
    await adoptUnowned();
    // Several hubs: a task whose hub died (its lease expired) is taken over like a restart.
    if (claims.shared) {
      adoptTimer = setInterval(() => {
        adoptUnowned().catch((error: Error) => logger.warn(`could not take over tasks: ${error.message}`));
      }, claims.checkIntervalMs);
      adoptTimer.unref();
    }
  }

  /** Takes up the built-in router's tasks that no hub runs: at start-up, and after a hub died. */
  async function adoptUnowned(): Promise<void> {
    for (const task of taskContext.getContext().activeTasks) {
      if (stopping) return;
      if (!task.backendReason || jobs.has(task.taskId)) continue; // not the built-in router's task
      if (!(await claims.claim(taskLease(task.taskId)))) continue; // another hub runs it
      // Claimed: is it still there and still ours to run (it may have finished meanwhile)?
      const current = taskContext.getActiveTask(task.taskId);
      if (!current || jobs.has(task.taskId)) continue;
      try {
        await recover(current);
      } catch (error) {
        logger.warn(`could not recover task ${task.taskId}: ${(error as Error).message}`);
      }
    }
  }

  async function recover(task: Task): Promise<void> {
    const plan = recoveryPlan(task, settings.onRestart);
    if (plan.action === "fail") {
      forget(task.taskId);
      await taskContext.completeTask(task.taskId, { status: "failed", error: plan.error });
      logger.info(`task ${task.taskId} was running when the hub stopped; failed with "${plan.error}"`);
      return;
    }
    let backend: string;
    try {
      backend = usableBackend(task).backend;
    } catch (error) {
      // Its backend is gone from config.json (or dead) and no other can take it: say so, not wait forever.
      forget(task.taskId);
      await taskContext.completeTask(task.taskId, {
        status: "failed",
        error: truncate((error as Error).message, LIMITS.error),
      });
      return;
    }
    let workspace: ResolvedWorkspace | undefined;
    try {
      workspace = options.workspaces?.resolveWorkspace(task.workspace ?? null);
    } catch {
      // config.json no longer names its workspace: running it elsewhere would touch the wrong folder.
      await taskContext.completeTask(task.taskId, {
        status: "failed",
        error: `its workspace ${JSON.stringify(task.workspace)} is no longer configured`,
      });
      return;
    }
    const job = newJob({
      taskId: task.taskId,
      description: task.description,
      steps: stepsOfTask(task),
      backend,
      next: plan.next,
      approvedStep: plan.action === "queue" ? plan.approvedStep : null,
      output: locate(task.taskId, task.outputPath ?? undefined),
      workspace,
    });
    jobs.set(task.taskId, job);
    if (plan.action === "wait") {
      job.state = "waiting";
      return;
    }
    await taskContext.updateTask(task.taskId, {
      status: "queued",
      backend,
      lastUpdate: plan.note ?? (plan.restarted ? "queued again after a hub restart" : `queued on ${backend}`),
      ...(task.awaitingApproval ? { awaitingApproval: null } : {}),
    });
    lanes.enqueue(job);
  }

  /** Stops taking work and kills every running step; their tasks stay for the next start-up. */
  async function stop(): Promise<void> {
    if (stopping) return;
    stopping = true;
    if (adoptTimer) clearInterval(adoptTimer);
    unsubscribe?.();
    unsubscribeHealth?.();
    const settled = lanes.stop();
    for (const job of jobs.values()) job.abort?.abort();
    conversations.stop();
    await settled;
  }

  return { route, followUp: followUps.followUp, start, stop, dispatchEstimates: lanes.dispatchEstimates };
}
