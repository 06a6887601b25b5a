// Follow-ups: a message to a task becomes one more step of its conversation, queued after the
// current step of an active task, or reopening a finished one still in `recentCompleted`.

import { followUpRequestSchema, planSteps, type Task, taskIdSchema } from "../../shared/schemas.ts";
import { conflict, notFound, parseInput, shuttingDown } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { TaskContext } from "../task-context.ts";
import { findTask, truncate } from "../task-transitions.ts";
import type { Transcripts } from "../transcripts.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import type { OutputLocation } from "./artifacts.ts";
import { type Job, newJob, type RouteStep, stepsOfTask } from "./jobs.ts";
import type { Lanes } from "./lanes.ts";

/** How much of a follow-up's text titles its step. */
const TITLE_CHARS = 80;

export interface FollowUpsOptions {
  taskContext: TaskContext;
  transcripts: Transcripts;
  jobs: Map<string, Job>;
  lanes: Lanes;
  logger: Logger;
  locate: (taskId: string, requested?: string | null) => OutputLocation;
  /** The backend a reopened task runs on; throws when none can take it. */
  usableBackend: (task: Task) => { backend: string; reason: string };
  /** The folder a reopened task runs in; throws when config.json no longer names it. */
  workspaceOf: (task: Task) => ResolvedWorkspace | undefined;
  isStopping: () => boolean;
  /** Says to other hubs sharing the store that this hub runs the reopened task. */
  claim: (taskId: string) => Promise<unknown>;
}

/** The step a follow-up's text becomes. */
export function followUpStep(text: string, channel: RouteStep["from"]): RouteStep {
  return {
    title: truncate(text.replace(/\s+/g, " "), TITLE_CHARS),
    prompt: text,
    requiresApproval: false,
    ...(channel ? { from: channel } : {}),
  };
}

export function createFollowUps(options: FollowUpsOptions) {
  const { taskContext, transcripts, jobs, lanes, logger } = options;

  /**
   * Adds a step to a task's conversation: after the current step on an active task, or reopening
   * a finished one still in `recentCompleted`. Resolves once the change is durable.
   */
  async function followUp(taskId: string, input: unknown): Promise<{ taskId: string; step: number }> {
    if (options.isStopping()) throw shuttingDown("the follow-up");
    const id = parseInput(taskIdSchema, taskId, "taskId");
    const request = parseInput(followUpRequestSchema, input, "follow-up");
    const found = findTask(taskContext.getContext(), id);
    if (!found) throw notFound(await unknownTaskMessage(id));
    if (!found.task.backendReason) {
      throw conflict(
        `task ${id} is run by another publisher, not the built-in router; send follow-ups to that publisher, or start a task with POST /api/route`,
      );
    }
    const step = followUpStep(request.text, request.channel);
    // A finished task runs again on its backend when that is still usable, else on the best one.
    const reopen = found.active ? null : options.usableBackend(found.task);
    const workspace = reopen ? reopenedWorkspace(found.task) : undefined;
    const added = taskContext.addStep(id, {
      step: { ...step },
      channel: request.channel,
      ...(reopen ? { reopen: { backend: reopen.backend, backendReason: reopen.reason } } : {}),
    });
    // The step is applied synchronously; the job learns of it before any other code runs, so a
    // job finishing its last step sees it (finish checks for steps added meanwhile).
    const task = taskContext.getActiveTask(id);
    if (task && planSteps(task.plan).length === planSteps(found.task.plan).length + 1) {
      const job = jobs.get(id);
      if (job) job.steps.push(step);
      else if (reopen) {
        const reopened = newJob({
          taskId: id,
          description: task.description,
          steps: stepsOfTask(task),
          backend: reopen.backend,
          next: planSteps(task.plan).length - 1,
          conversation: task.conversation ?? null,
          output: options.locate(id, task.outputPath ?? undefined),
          workspace,
        });
        jobs.set(id, reopened);
        lanes.enqueue(reopened);
        options.claim(id).catch(() => {});
      }
    }
    const { step: number } = await added;
    logger.info(`task ${id}: follow-up from ${request.channel} queued as step ${number}`);
    return { taskId: id, step: number };
  }

  function reopenedWorkspace(task: Task): ResolvedWorkspace | undefined {
    try {
      return options.workspaceOf(task);
    } catch {
      throw conflict(
        `task ${task.taskId} ran in the workspace ${JSON.stringify(task.workspace)}, which config.json no longer names; start a new task`,
      );
    }
  }

  /** 404's message: a task that finished too long ago says so; one never seen says that. */
  async function unknownTaskMessage(id: string): Promise<string> {
    if ((await transcripts.read(id)) !== null) {
      return (
        `task ${id} finished too long ago: only the ${taskContext.recentLimit} most recent finished tasks ` +
        "take follow-ups (context.recentLimit); start a new task with POST /api/route"
      );
    }
    return `no task with id ${id}; list tasks with GET /api/context`;
  }

  return { followUp };
}
