// What a starting hub does with a task the previous hub left behind: pure decisions from the
// stored task and the router's settings; the router acts on them.
import { planSteps, type Task } from "../../shared/schemas.ts";
import type { RouterSettings } from "../config.ts";

/** Index of the step to run again: the step the task was on (currentStep is 1-based), within the plan. */
export function resumePoint(task: Pick<Task, "currentStep" | "plan">): number {
  const steps = planSteps(task.plan).length;
  return Math.min(Math.max(0, task.currentStep - 1), Math.max(0, steps - 1));
}

export type Recovery =
  /** It was running and the settings say so: fail it ("hub restarted"). */
  | { action: "fail"; error: string }
  /** It waits for a person's decision: hold it at its step, without queuing. */
  | { action: "wait"; next: number }
  /**
   * Queue it again at `next`; `approvedStep` is the step whose approval was already given;
   * `restarted` when it was running (and is run again) rather than waiting in a queue.
   */
  | { action: "queue"; next: number; approvedStep: number | null; restarted: boolean; note?: string };

export function recoveryPlan(
  task: Pick<Task, "status" | "currentStep" | "plan" | "approval" | "awaitingApproval">,
  onRestart: RouterSettings["onRestart"],
): Recovery {
  // A tool call waiting for a person died with the backend process that asked: it was running.
  const waitingTool = task.status === "pending-approval" && task.awaitingApproval?.kind === "tool";
  const lostTool = waitingTool
    ? `the hub restarted while ${task.awaitingApproval?.title} waited for approval; the tool call was denied`
    : null;
  if ((task.status === "running" || waitingTool) && onRestart === "fail") {
    return { action: "fail", error: lostTool ?? "hub restarted" };
  }
  const next = resumePoint(task);
  if (lostTool)
    return { action: "queue", next, approvedStep: null, restarted: true, note: `${lostTool}; queued again` };
  if (task.status === "pending-approval") return { action: "wait", next };
  return {
    action: "queue",
    next,
    approvedStep: task.approval?.decision === "approved" ? next : null,
    restarted: task.status === "running",
  };
}
