// The built-in router: takes a task from any channel, picks a backend by health and load, runs
// its steps through the warm standby (warm session when ready, else cold), and publishes every
// step through the task context. Approvals, rejections and cancellations reach it as changes to the
// context document — the same change an external router sees. This file is intake and wiring;
// the parts: jobs.ts (what runs), backend-choice.ts (which backend), lanes.ts (queues per backend),
// run-job.ts (a job to its end, retries), run-step.ts (one step), limited-backends.ts (limits),
// follow-ups.ts, adoption.ts (tasks no hub runs: after a restart or a hub's death); the decisions
// are pure functions in scoring.ts, retry.ts, recovery.ts and limit-policy.ts.
import { dirname } from "node:path";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { type RouteRequest, routeRequestSchema, type Task } from "../../shared/schemas.ts";
import { soleClaims, type WorkClaims } from "../cluster/leases.ts";
import { DEFAULT_CONFIG_PATH, type RouterSettings } from "../config.ts";
import { invalidInput, parseInput, shuttingDown } from "../errors.ts";
import { type Logger, silentLogger } from "../log.ts";
import { newRouteId, type TaskContext } from "../task-context.ts";
import { findTask } from "../task-transitions.ts";
import { localTimeZone } from "../time-zone.ts";
import type { Transcripts } from "../transcripts.ts";
import type { UsageBook } from "../usage/usage.ts";
import type { WarmStandby } from "../warm-standby/warm-standby.ts";
import type { Workspaces } from "../workspaces/workspaces.ts";
import { createAdoption } from "./adoption.ts";
import { checkOutputPath, type OutputLocation, resolveOutputPath } from "./artifacts.ts";
import { createBackendChoice } from "./backend-choice.ts";
import { createFollowUps } from "./follow-ups.ts";
import { type Job, newJob, stepsOfRequest } from "./jobs.ts";
import { createLanes } from "./lanes.ts";
import { createLimitedBackends } from "./limited-backends.ts";
import { createJobRunner } from "./run-job.ts";
import { createStepRunner } from "./run-step.ts";
import { createWarmConversations } from "./warm-conversations.ts";

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

  let unsubscribe: (() => void) | null = null;
  let unsubscribeHealth: (() => void) | null = null;
  let reconcileQueued = false;
  let stopping = false;
  let adoptTimer: NodeJS.Timeout | null = null;
  const isStopping = () => stopping;

  const jobs = new Map<string, Job>();
  const limits = createLimitedBackends({
    taskContext,
    warmStandby,
    jobs,
    lanes: () => lanes,
    settings,
    clock,
    logger,
    // Asked of Intl only when a reset time is told: the hub's start-up never waits on it.
    get timeZone() {
      return options.timeZone ?? localTimeZone();
    },
    choose: (request) => choose(request),
    isStopping,
  });
  const lanes = createLanes({
    backends: Object.keys(warmStandby.backends),
    jobs,
    taskContext,
    warmStandby,
    clock,
    settings,
    run: (job) => runner.runJob(job),
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
  const runner = createJobRunner({
    taskContext,
    transcripts,
    settings,
    logger,
    steps,
    lanes,
    limits,
    choose: (request) => choose(request),
    isActive,
    isStopping,
    forget: (taskId) => forget(taskId),
  });

  /** The router is done with a task here: another hub may never need to take it over. */
  function forget(taskId: string): void {
    jobs.delete(taskId);
    claims.release(taskLease(taskId)).catch(() => {});
  }

  const { choose, usableBackend } = createBackendChoice({ lanes, warmStandby, settings });

  const locate = (taskId: string, requested?: string | null): OutputLocation =>
    resolveOutputPath({ artifactsDir: settings.artifactsDir, projectRoot, taskId, requested: requested ?? undefined });

  // ---- intake -----------------------------------------------------------------------------

  /** Registers the task at once (queued, with its backend and why) and queues it. */
  async function route(input: unknown): Promise<{ taskId: string; task: Task }> {
    if (stopping) throw shuttingDown("the task");
    const request: RouteRequest = parseInput(routeRequestSchema, input, "route request");
    if (request.workspace !== undefined && !options.workspaces) {
      throw invalidInput("workspace: this hub has no workspaces configured");
    }
    const workspace = options.workspaces?.resolveWorkspace(request.workspace ?? null);
    const taskId = newTaskId();
    const output = locate(taskId, request.outputPath);
    // A symbolic link that already takes the path out of the artifacts directory: 400 now.
    await checkOutputPath(output);
    if (stopping) throw shuttingDown("the task");
    const choice = choose({ explicit: request.backend ?? null, kind: request.kind ?? null });
    const job = newJob({
      taskId,
      description: request.description,
      steps: stepsOfRequest(request),
      backend: choice.backend,
      output,
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

  // ---- follow-ups ---------------------------------------------------------------------------

  const followUps = createFollowUps({
    taskContext,
    transcripts,
    jobs,
    lanes,
    logger,
    locate,
    usableBackend,
    workspaceOf: (task) => options.workspaces?.resolveWorkspace(task.workspace ?? null),
    isStopping,
    claim: (taskId) => claims.claim(taskLease(taskId)),
  });

  const adoption = createAdoption({
    taskContext,
    settings,
    logger,
    jobs,
    lanes,
    claims,
    taskLease,
    workspaces: options.workspaces,
    locate,
    usableBackend,
    isStopping,
    forget,
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
    await adoption.adoptUnowned();
    // Several hubs: a task whose hub died (its lease expired) is taken over like a restart.
    if (claims.shared) {
      adoptTimer = setInterval(() => {
        adoption.adoptUnowned().catch((error: Error) => logger.warn(`could not take over tasks: ${error.message}`));
      }, claims.checkIntervalMs);
      adoptTimer.unref();
    }
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
