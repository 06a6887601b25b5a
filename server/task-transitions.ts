// The task context's pure decisions: a task built, updated, finished or given a step, from the
// request and the clock, with no I/O; task-context.ts applies them to the versioned document.
import { iso } from "../shared/clock.ts";
import {
  type Channel,
  type ChannelHistoryEntry,
  type Completion,
  type Context,
  LIMITS,
  type NewTask,
  type Plan,
  type PlanStep,
  planSteps,
  type Task,
  type TaskUpdate,
} from "../shared/schemas.ts";
import { conflict, invalidInput } from "./errors.ts";
import { deepEqual } from "./json-diff.ts";

export function findTask(context: Context, taskId: string): { task: Task; active: boolean } | null {
  const active = context.activeTasks.find((t) => t.taskId === taskId);
  if (active) return { task: active, active: true };
  const recent = context.recentCompleted.find((t) => t.taskId === taskId);
  return recent ? { task: recent, active: false } : null;
}

/** The fields of a replayed add that differ from the add that created the task (none: a replay). */
export function differingFields(original: NewTask, replay: NewTask): string[] {
  const names = new Set([...Object.keys(original), ...Object.keys(replay)]);
  return [...names].filter((name) => !deepEqual(original[name as keyof NewTask], replay[name as keyof NewTask]));
}

/**
 * Without the original request (added before a restart, or by another hub): the fields that name
 * a task and do not change as it runs, compared with the task as it is.
 */
export function differingFromTask(existing: Task, input: NewTask): string[] {
  const differing: string[] = [];
  if (existing.description !== input.description) differing.push("description");
  if (existing.startedFrom !== input.startedFrom) differing.push("startedFrom");
  if (input.plan !== undefined && !deepEqual(existing.plan, input.plan)) differing.push("plan");
  if (input.kind !== undefined && (existing.kind ?? null) !== input.kind) differing.push("kind");
  if (input.workspace !== undefined && (existing.workspace ?? null) !== input.workspace) differing.push("workspace");
  return differing;
}

export function buildTask(input: NewTask, taskId: string, now: number): Task {
  const plan = input.plan ?? { steps: [] };
  const totalSteps = input.totalSteps ?? planSteps(plan).length;
  const currentStep = input.currentStep ?? 0;
  checkSteps(currentStep, totalSteps);
  const base: Task = {
    taskId,
    description: input.description,
    status: input.status ?? "running",
    plan,
    currentStep,
    totalSteps,
    startedFrom: input.startedFrom,
    startedAt: iso(now),
    eta: input.eta ?? null,
    lastUpdate: input.lastUpdate ?? "",
    outputPath: input.outputPath ?? null,
    progress: input.progress ?? stepProgress(currentStep, totalSteps),
    etaSource: input.eta ? "publisher" : null,
    updatedAt: iso(now),
    ...(input.kind !== undefined ? { kind: input.kind } : {}),
    ...(input.backend !== undefined ? { backend: input.backend } : {}),
    ...(input.backendReason !== undefined ? { backendReason: input.backendReason } : {}),
    ...(input.workspace !== undefined ? { workspace: input.workspace } : {}),
  };
  return base;
}

/** An update that leaves the task active (final statuses go through `finishTask`). */
export type ActiveUpdate = Omit<TaskUpdate, "result" | "error">;

export function applyUpdate(task: Task, updates: ActiveUpdate, now: number): Task {
  const next: Task = { ...task, ...updates, updatedAt: iso(now) } as Task;
  // A new wait is for a new decision: the previous step's approval does not linger on the task.
  const startsWaiting = updates.status === "pending-approval" && task.status !== "pending-approval";
  if (startsWaiting && task.approval && updates.approval === undefined) next.approval = null;
  if (updates.plan && updates.totalSteps === undefined) next.totalSteps = planSteps(updates.plan).length;
  checkSteps(next.currentStep, next.totalSteps);
  if (updates.progress === undefined && (updates.currentStep !== undefined || updates.totalSteps !== undefined)) {
    next.progress = stepProgress(next.currentStep, next.totalSteps);
  }
  if (updates.eta !== undefined) {
    next.etaSource = updates.eta === null ? null : "publisher";
  } else if (task.etaSource !== "publisher") {
    next.eta = estimateEta(next, now);
    next.etaSource = next.eta ? "estimate" : null;
  }
  return next;
}

export function finishTask(task: Task, completion: Completion, now: number): Task {
  const status = completion.status ?? (completion.error ? "failed" : "complete");
  const finished: Task = {
    ...task,
    status,
    completedAt: iso(now),
    updatedAt: iso(now),
    eta: null,
    etaSource: null,
    outputPath: completion.outputPath !== undefined ? completion.outputPath : task.outputPath,
  };
  if (finished.awaitingApproval) finished.awaitingApproval = null;
  if (status === "complete") {
    finished.progress = 1;
    finished.currentStep = task.totalSteps;
    finished.lastUpdate =
      typeof completion.result === "string" && completion.result ? truncate(completion.result, 200) : "finished";
  } else {
    finished.error = completion.error ?? "failed";
    finished.lastUpdate = `failed: ${truncate(finished.error, 200)}`;
  }
  if (completion.result !== undefined) finished.result = completion.result;
  return finished;
}

/**
 * A task with one more step. `reopen` (for a finished task) makes it queued again: its finish
 * (completedAt, result, error) is cleared and the answered steps count as done.
 */
export function withStep(
  task: Task,
  step: PlanStep,
  channel: Channel,
  reopen: Pick<TaskUpdate, "backend" | "backendReason"> | null,
  now: number,
): Task {
  const steps = planSteps(task.plan);
  if (steps.length >= LIMITS.steps) {
    throw conflict(`task ${task.taskId} already has ${LIMITS.steps} steps, the most a task holds; start a new task`);
  }
  // Whatever else a publisher put in the plan is carried along.
  const plan = { ...task.plan, steps: [...steps, step] } as Plan;
  const number = steps.length + 1;
  if (!reopen) {
    return {
      ...task,
      plan,
      totalSteps: number,
      lastUpdate: truncate(`follow-up from ${channel} queued as step ${number}: ${step.title}`, LIMITS.lastUpdate),
      updatedAt: iso(now),
    };
  }
  const { completedAt: _completedAt, result: _result, error: _error, ...open } = task;
  return {
    ...open,
    ...reopen,
    status: "queued",
    plan,
    totalSteps: number,
    currentStep: number,
    progress: (number - 1) / number,
    eta: null,
    etaSource: null,
    awaitingApproval: null,
    lastUpdate: truncate(`reopened from ${channel}: step ${number} queued: ${step.title}`, LIMITS.lastUpdate),
    updatedAt: iso(now),
  };
}

/** Share of the plan done: steps before the current one are finished. */
export function stepProgress(currentStep: number, totalSteps: number): number {
  if (totalSteps <= 0) return 0;
  return Math.min(1, Math.max(0, currentStep - 1) / totalSteps);
}

/** Latest time a Date can hold (about the year 275760). */
const LAST_DATE_MS = 8.64e15;

/**
 * Remaining time extrapolated from elapsed time and progress; null without progress, and null
 * when a tiny progress puts the extrapolation beyond any date (no estimate rather than a crash).
 */
export function estimateEta(task: Pick<Task, "startedAt" | "progress">, now: number): string | null {
  const started = Date.parse(task.startedAt);
  const elapsed = now - started;
  if (!(task.progress > 0) || task.progress >= 1 || elapsed <= 0) return null;
  const eta = now + (elapsed * (1 - task.progress)) / task.progress;
  return eta <= LAST_DATE_MS ? iso(eta) : null;
}

export function checkSteps(currentStep: number, totalSteps: number): void {
  if (currentStep > totalSteps) {
    throw invalidInput(`currentStep must be between 0 and totalSteps (${totalSteps}), got ${currentStep}`);
  }
}

export function touchChannel(
  history: Context["channelHistory"],
  channel: Channel,
  now: number,
  taskId: string | undefined,
): Context["channelHistory"] {
  const previous: ChannelHistoryEntry | undefined = history[channel];
  return {
    ...history,
    [channel]: { lastActive: iso(now), lastTaskId: taskId ?? previous?.lastTaskId ?? null },
  };
}

/** Shortens text to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
