// Taking up the built-in router's tasks that no hub runs: at start-up (what the previous hub
// left) and, with several hubs, the tasks of a hub that died (its lease expired). What happens
// to each task is recovery.ts's pure decision; this file claims the task and acts on it.
import type { Task } from "../../shared/schemas.ts";
import { LIMITS } from "../../shared/schemas.ts";
import type { WorkClaims } from "../cluster/leases.ts";
import type { RouterSettings } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TaskContext } from "../task-context.ts";
import { truncate } from "../task-transitions.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import type { Workspaces } from "../workspaces/workspaces.ts";
import type { OutputLocation } from "./artifacts.ts";
import { type Job, newJob, stepsOfTask } from "./jobs.ts";
import type { Lanes } from "./lanes.ts";
import { recoveryPlan } from "./recovery.ts";

export interface AdoptionOptions {
  taskContext: TaskContext;
  settings: RouterSettings;
  logger: Logger;
  jobs: Map<string, Job>;
  lanes: Lanes;
  claims: WorkClaims;
  taskLease: (taskId: string) => string;
  workspaces: Workspaces | undefined;
  locate: (taskId: string, requested?: string | null) => OutputLocation;
  usableBackend: (task: Task) => { backend: string };
  isStopping: () => boolean;
  /** The router is done with the task here. */
  forget: (taskId: string) => void;
}

export function createAdoption(options: AdoptionOptions) {
  const { taskContext, settings, logger, jobs, lanes, claims, taskLease, forget } = options;

  /** Takes up the built-in router's tasks that no hub runs: at start-up, and after a hub died. */
  async function adoptUnowned(): Promise<void> {
    for (const task of taskContext.getContext().activeTasks) {
      if (options.isStopping()) return;
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
      backend = options.usableBackend(task).backend;
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
      output: options.locate(task.taskId, task.outputPath ?? undefined),
      workspace,
      // The steps left continue the conversation the earlier ones began (resumed by its id).
      conversation: task.conversation ?? null,
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

  return { adoptUnowned };
}
