// The task context: the active context (tasks, plans, steps, ETAs, channels) as a versioned
// document, and the seed's functions on top of it; the decisions are pure functions in task-transitions.ts.
import { randomBytes } from "node:crypto";
import { type Clock, iso, systemClock } from "../shared/clock.ts";
import {
  type Approval,
  type Channel,
  type Completion,
  type Context,
  channelActiveSchema,
  channelSchema,
  completionOf,
  completionSchema,
  isFinalStatus,
  type NewTask,
  newTaskSchema,
  type PlanStep,
  planSteps,
  type Task,
  type TaskUpdate,
  taskIdSchema,
  taskUpdateSchema,
} from "../shared/schemas.ts";
import { type ContextLimits, DEFAULT_CONTEXT_LIMITS, limitRefusal } from "./context-limits.ts";
import { VersionedDocument } from "./document.ts";
import { conflict, notFound, parseInput } from "./errors.ts";
import {
  type ActiveUpdate,
  applyUpdate,
  buildTask,
  differingFields,
  differingFromTask,
  findTask,
  finishTask,
  touchChannel,
  withStep,
} from "./task-transitions.ts";

export interface TaskContextOptions {
  document?: VersionedDocument<Context>;
  clock?: Clock;
  /** How many finished tasks `recentCompleted` keeps. */
  recentLimit?: number;
  /** Caps on active tasks and sizes (config `session.maxActiveTasks`, `maxTaskBytes`, `maxDocumentBytes`). */
  limits?: ContextLimits;
  newTaskId?: () => string;
}

export interface ChannelState {
  lastActive: string | null;
  lastTaskId: string | null;
  task: Task | null;
}

export type TaskContext = ReturnType<typeof createTaskContext>;

export function emptyContext(now: number): Context {
  return { lastUpdated: iso(now), activeTasks: [], recentCompleted: [], channelHistory: {} };
}

export const newRouteId = (): string => `route_${randomBytes(9).toString("base64url").replace(/[-]/g, "_")}`;

export function createTaskContext(options: TaskContextOptions = {}) {
  const clock = options.clock ?? systemClock;
  const document = options.document ?? new VersionedDocument<Context>({ initial: emptyContext(clock.now()) });
  const recentLimit = options.recentLimit ?? 10;
  const newTaskId = options.newTaskId ?? newRouteId;
  const limits = options.limits ?? DEFAULT_CONTEXT_LIMITS;
  /**
   * The request that added each task this hub added, to tell a replay (the same request again)
   * from a different task under the same id. A task added before a restart or by another hub is
   * judged by the fields that name it (`differingFromTask`).
   */
  const addedAs = new Map<string, NewTask>();

  function getContext(): Context {
    return document.state;
  }

  /**
   * A change that adds or grows tasks, refused (and nothing changed) when it would pass a cap.
   * Judged inside the mutation, on the state it applies to. Finishing a task is never refused.
   */
  const withinLimits =
    (change: (state: Context) => Context) =>
    (state: Context): Context => {
      const next = change(state);
      const refusal = limitRefusal(state, next, limits);
      if (refusal) throw refusal;
      return next;
    };

  function getActiveTask(taskId: string): Task | null {
    return findTask(document.state, taskId)?.task ?? null;
  }

  /** Registers a task. Replaying the same task is a no-op; another task under its id is a conflict. */
  async function addTask(input: unknown): Promise<Task> {
    const task = parseInput(newTaskSchema, input, "task");
    const now = clock.now();
    if (task.taskId) {
      const existing = findTask(document.state, task.taskId);
      if (existing) {
        const original = addedAs.get(task.taskId);
        const differing = original ? differingFields(original, task) : differingFromTask(existing.task, task);
        if (differing.length === 0) {
          await document.whenDurable();
          return existing.task;
        }
        throw conflict(
          `a different task already has the id ${task.taskId} (${differing.join(", ")} differ from the task added ` +
            "under it); a replay must repeat the same fields: choose another taskId or leave it out to get a new one",
        );
      }
    }
    const created = buildTask(task, task.taskId ?? newTaskId(), now);
    forgetGoneTasks();
    addedAs.set(created.taskId, task);
    await document.mutate(
      withinLimits((state) => ({
        ...state,
        lastUpdated: iso(now),
        activeTasks: [...state.activeTasks, created],
        channelHistory: touchChannel(state.channelHistory, created.startedFrom, now, created.taskId),
      })),
    );
    return created;
  }

  /**
   * Applies a validated partial update to an active task. A final status finishes the task as
   * `completeTask` does, in the same change.
   */
  async function updateTask(taskId: string, input: unknown): Promise<Task> {
    const id = parseInput(taskIdSchema, taskId, "taskId");
    const updates = parseInput(taskUpdateSchema, input, "update");
    const now = clock.now();
    const found = requireActive(id);
    const { status, result, error, ...rest } = updates;
    if (isFinalStatus(status)) {
      const updated = Object.keys(rest).length > 0 ? applyUpdate(found, rest, now) : found;
      const completion: Completion = { status };
      if (result !== undefined) completion.result = result;
      if (error !== undefined) completion.error = error;
      return finish(id, finishTask(updated, completion, now), now);
    }
    const updated = applyUpdate(found, status === undefined ? rest : { ...rest, status }, now);
    await document.mutate(
      withinLimits((state) => ({
        ...state,
        lastUpdated: iso(now),
        activeTasks: state.activeTasks.map((t) => (t.taskId === id ? updated : t)),
      })),
    );
    return updated;
  }

  /**
   * Finishes a task and moves it to the front of `recentCompleted`. `input` is a completion
   * (`{status, result, error, outputPath}`) or, as the seed's routers send it, the result itself.
   */
  async function completeTask(taskId: string, input: unknown = {}): Promise<Task> {
    const id = parseInput(taskIdSchema, taskId, "taskId");
    const completion = parseInput(completionSchema, completionOf(input), "completion");
    const now = clock.now();
    const found = requireActive(id);
    return finish(id, finishTask(found, completion, now), now);
  }

  async function finish(id: string, finished: Task, now: number): Promise<Task> {
    await document.mutate((state) => ({
      ...state,
      lastUpdated: iso(now),
      activeTasks: state.activeTasks.filter((t) => t.taskId !== id),
      recentCompleted: [finished, ...state.recentCompleted].slice(0, recentLimit),
    }));
    return finished;
  }

  /**
   * Adds a step to a task's plan (a follow-up) and marks the channel active, in one change. A
   * finished task still in `recentCompleted` is reopened: back in `activeTasks`, queued, same id,
   * with `reopen`'s fields (its backend). Returns the task and the new step's number (1-based).
   */
  async function addStep(
    taskId: string,
    input: { step: PlanStep; channel: Channel; reopen?: Pick<TaskUpdate, "backend" | "backendReason"> },
  ): Promise<{ task: Task; step: number }> {
    const id = parseInput(taskIdSchema, taskId, "taskId");
    const found = findTask(document.state, id);
    if (!found) throw notFound(`no task with id ${id}; list tasks with GET /api/context`);
    const now = clock.now();
    const updated = withStep(found.task, input.step, input.channel, found.active ? null : (input.reopen ?? {}), now);
    await document.mutate(
      withinLimits((state) => ({
        ...state,
        lastUpdated: iso(now),
        activeTasks: found.active
          ? state.activeTasks.map((t) => (t.taskId === id ? updated : t))
          : [...state.activeTasks, updated],
        recentCompleted: found.active ? state.recentCompleted : state.recentCompleted.filter((t) => t.taskId !== id),
        channelHistory: touchChannel(state.channelHistory, input.channel, now, id),
      })),
    );
    return { task: updated, step: planSteps(updated.plan).length };
  }

  function getChannelState(channel: string): ChannelState {
    const name = parseInput(channelSchema, channel, "channel");
    const entry = document.state.channelHistory[name];
    if (!entry) return { lastActive: null, lastTaskId: null, task: null };
    return {
      lastActive: entry.lastActive,
      lastTaskId: entry.lastTaskId,
      task: entry.lastTaskId ? getActiveTask(entry.lastTaskId) : null,
    };
  }

  /** Marks a channel active now, optionally naming the task it acted on. */
  async function setChannelActive(channel: string, input: unknown = {}): Promise<ChannelState> {
    const name = parseInput(channelSchema, channel, "channel");
    const { taskId } = parseInput(channelActiveSchema, input ?? {}, "channel activity");
    if (taskId && !findTask(document.state, taskId)) throw notFound(`no task with id ${taskId}`);
    const now = clock.now();
    await document.mutate(
      withinLimits((state) => ({
        ...state,
        lastUpdated: iso(now),
        channelHistory: touchChannel(state.channelHistory, name, now, taskId ?? undefined),
      })),
    );
    return getChannelState(name);
  }

  /**
   * A channel's action on an active task (approve, reject, cancel) as one change: the task updated
   * or finished, and the channel marked active on it — so a subscriber never sees half an action.
   */
  async function actOnTask(
    taskId: string,
    channel: Channel,
    change: { update: ActiveUpdate } | { completion: Completion; approval?: Approval },
  ): Promise<Task> {
    const found = requireActive(taskId);
    const now = clock.now();
    const finishing = "completion" in change;
    const task = finishing
      ? finishTask(change.approval ? { ...found, approval: change.approval } : found, change.completion, now)
      : applyUpdate(found, change.update, now);
    const act = (state: Context): Context => ({
      ...state,
      lastUpdated: iso(now),
      activeTasks: finishing
        ? state.activeTasks.filter((t) => t.taskId !== taskId)
        : state.activeTasks.map((t) => (t.taskId === taskId ? task : t)),
      recentCompleted: finishing ? [task, ...state.recentCompleted].slice(0, recentLimit) : state.recentCompleted,
      channelHistory: touchChannel(state.channelHistory, channel, now, taskId),
    });
    await document.mutate(finishing ? act : withinLimits(act));
    return task;
  }

  /** Drops the requests of tasks no longer in the document (finished out of recentCompleted). */
  function forgetGoneTasks(): void {
    const { activeTasks, recentCompleted } = document.state;
    if (addedAs.size <= activeTasks.length + recentCompleted.length) return;
    const present = new Set([...activeTasks, ...recentCompleted].map((task) => task.taskId));
    for (const id of addedAs.keys()) if (!present.has(id)) addedAs.delete(id);
  }

  function requireActive(taskId: string): Task {
    const found = findTask(document.state, taskId);
    if (!found) throw notFound(`no task with id ${taskId}; list tasks with GET /api/context`);
    if (!found.active) {
      throw conflict(`task ${taskId} is already ${found.task.status}; a finished task cannot change`);
    }
    return found.task;
  }

  return {
    document,
    clock,
    /** How many finished tasks `recentCompleted` keeps. */
    recentLimit,
    getContext,
    getActiveTask,
    addTask,
    updateTask,
    completeTask,
    addStep,
    getChannelState,
    setChannelActive,
    actOnTask,
  };
}
