// What the router runs: a job per task (its steps, where it is, how to stop it), built in one
// place whether the task arrives through `route` or is taken up again after a restart.
import type { Channel, Conversation, RouteRequest, Task } from "../../shared/schemas.ts";
import { LIMITS, planSteps } from "../../shared/schemas.ts";
import { truncate } from "../task-transitions.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import type { OutputLocation } from "./artifacts.ts";

export interface RouteStep {
  title: string;
  prompt: string;
  requiresApproval: boolean;
  /** A follow-up: the channel it came from. */
  from?: Channel;
}

/** A task the router runs: its plan, where it is, and how to stop it. */
export interface Job {
  taskId: string;
  description: string;
  steps: RouteStep[];
  backend: string;
  /** Index of the next step to run. */
  next: number;
  /** The backend conversation the steps continue; null until the first answer names one. */
  conversation: Conversation | null;
  /** The step whose approval has been given, so it runs instead of asking again. */
  approvedStep: number | null;
  state: "queued" | "running" | "waiting";
  abort: AbortController | null;
  /** Backends that failed this task; a retry goes elsewhere. */
  failedOn: string[];
  output: OutputLocation;
  /** Where its backend works (absent: wherever the warm standby starts CLIs). */
  workspace: ResolvedWorkspace | undefined;
}

/** The one job constructor: a queued job at step `next` (default the first). */
export function newJob(fields: {
  taskId: string;
  description: string;
  steps: RouteStep[];
  backend: string;
  output: OutputLocation;
  next?: number;
  approvedStep?: number | null;
  workspace?: ResolvedWorkspace | undefined;
  conversation?: Conversation | null;
}): Job {
  return {
    taskId: fields.taskId,
    description: fields.description,
    steps: fields.steps,
    backend: fields.backend,
    next: fields.next ?? 0,
    conversation: fields.conversation ?? null,
    approvedStep: fields.approvedStep ?? null,
    state: "queued",
    abort: null,
    failedOn: [],
    output: fields.output,
    workspace: fields.workspace,
  };
}

/** A route request's steps; without any, one step whose prompt is the description. */
export function stepsOfRequest(request: Pick<RouteRequest, "description" | "steps">): RouteStep[] {
  return (
    request.steps?.map((s) => ({
      title: s.title,
      prompt: s.prompt,
      requiresApproval: s.requiresApproval ?? false,
    })) ?? [
      { title: truncate(request.description, LIMITS.title), prompt: request.description, requiresApproval: false },
    ]
  );
}

/** A stored task's steps (a step saved without a prompt runs the description). */
export function stepsOfTask(task: Pick<Task, "description" | "plan">): RouteStep[] {
  return planSteps(task.plan).map((s) => ({
    title: s.title,
    prompt: s.prompt ?? task.description,
    requiresApproval: s.requiresApproval ?? false,
    ...(s.from ? { from: s.from } : {}),
  }));
}

/** How long the steps still to run are expected to take (at least one step). */
export const remainingMs = (job: Pick<Job, "steps" | "next">, estimatedStepMs: number): number =>
  Math.max(1, job.steps.length - job.next) * estimatedStepMs;
