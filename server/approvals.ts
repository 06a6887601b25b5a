// Approve, reject and cancel: task-context actions on any task, whoever publishes it. Each is
// one change to the context document; publishers (the built-in router, an external one) react
// to that change on their subscription — one path for both.

import {
  type Approval,
  actionRequestSchema,
  type Channel,
  type Task,
  taskIdSchema,
  waitingStep,
} from "../shared/schemas.ts";
import { conflict, notFound, parseInput } from "./errors.ts";
import type { TaskContext } from "./task-context.ts";
import { findTask } from "./task-transitions.ts";

/** The channel recorded when a request names none: a bare REST call, such as curl. */
export const DEFAULT_ACTION_CHANNEL: Channel = "cli";

export type Approvals = ReturnType<typeof createApprovals>;

export function createApprovals(taskContext: TaskContext) {
  const { clock } = taskContext;

  /** The task and the parsed request, or the contract's 400/404 before anything changes. */
  function prepare(taskId: string, input: unknown) {
    const id = parseInput(taskIdSchema, taskId, "taskId");
    const request = parseInput(actionRequestSchema, input ?? {}, "request");
    const found = findTask(taskContext.getContext(), id);
    if (!found) throw notFound(`no task with id ${id}; list tasks with GET /api/context`);
    return {
      id,
      found,
      channel: request.channel ?? DEFAULT_ACTION_CHANNEL,
      reason: request.reason,
      step: request.step,
      approvalId: request.approvalId,
    };
  }

  /**
   * A request that names a tool call's approval acts on that call only: a call already decided
   * that way is a replay (true); a call no longer waiting is 409, even on the same step.
   */
  function namedApproval(task: Task, approvalId: string | undefined, kind: Approval["decision"]): boolean {
    if (approvalId === undefined || task.awaitingApproval?.id === approvalId) return false;
    if (task.approval?.id === approvalId) {
      if (task.approval.decision === kind) return true;
      throw conflict(`tool call ${approvalId} of task ${task.taskId} was already ${task.approval.decision}`);
    }
    throw conflict(
      `task ${task.taskId} no longer waits on tool call ${approvalId}` +
        (task.awaitingApproval ? `; it now waits on ${task.awaitingApproval.title}` : "") +
        ": what you saw is out of date, nothing was decided",
    );
  }

  /** The decision on what the task waits for now: its step, and the tool call's id and the reason for a tool call. */
  const decision = (kind: Approval["decision"], channel: Channel, task: Task, reason?: string): Approval => ({
    decision: kind,
    channel,
    at: new Date(clock.now()).toISOString(),
    step: waitingStep(task),
    ...(task.awaitingApproval?.id ? { id: task.awaitingApproval.id } : {}),
    ...(reason && task.awaitingApproval?.kind === "tool" ? { reason } : {}),
  });

  /** A replayed action changes nothing but marks the channel active. */
  async function touched(channel: Channel, id: string, task: Task): Promise<Task> {
    await taskContext.setChannelActive(channel, { taskId: id });
    return taskContext.getActiveTask(id) ?? task;
  }

  /** Resumes a task waiting for approval: records the decision and sets it `running`. */
  async function approveTask(taskId: string, input?: unknown): Promise<Task> {
    const { id, found, channel, step, approvalId } = prepare(taskId, input);
    const task = found.task;
    if (found.active && namedApproval(task, approvalId, "approved")) return touched(channel, id, task);
    if (found.active && task.status === "running" && isReplay(task, "approved", step)) {
      return touched(channel, id, task); // already approved: a replay changes nothing
    }
    requireWaitingStep(task, found.active, "approved", step, approvalId);
    const title = task.awaitingApproval?.title;
    return taskContext.actOnTask(id, channel, {
      update: {
        status: "running",
        approval: decision("approved", channel, task),
        awaitingApproval: null,
        lastUpdate: title ? `approved on ${channel}: ${title}` : `approved on ${channel}`,
      },
    });
  }

  /**
   * Refuses what a task waits for: a step's rejection fails the task ("rejected"); a tool call's
   * is that call's answer (denied, with the reason) and the task goes on running.
   */
  async function rejectTask(taskId: string, input?: unknown): Promise<Task> {
    const { id, found, channel, reason, step, approvalId } = prepare(taskId, input);
    const task = found.task;
    if (found.active && namedApproval(task, approvalId, "rejected")) return touched(channel, id, task);
    if (!found.active && task.status === "failed" && isReplay(task, "rejected", step)) {
      return touched(channel, id, task);
    }
    requireWaitingStep(task, found.active, "rejected", step, approvalId);
    if (task.awaitingApproval?.kind === "tool") {
      return taskContext.actOnTask(id, channel, {
        update: {
          status: "running",
          approval: decision("rejected", channel, task, reason),
          awaitingApproval: null,
          lastUpdate: `rejected on ${channel}: ${task.awaitingApproval.title}${reason ? ` (${reason})` : ""}`,
        },
      });
    }
    return taskContext.actOnTask(id, channel, {
      completion: { status: "failed", error: reason ? `rejected: ${reason}` : "rejected" },
      approval: decision("rejected", channel, task),
    });
  }

  /** Stops a queued, running or waiting task and fails it ("cancelled"); its publisher kills its work. */
  async function cancelTask(taskId: string, input?: unknown): Promise<Task> {
    const { id, found, channel, reason } = prepare(taskId, input);
    const task = found.task;
    if (!found.active) {
      if (task.status === "failed" && task.error?.startsWith("cancelled")) return touched(channel, id, task);
      throw conflict(`task ${id} is already ${task.status}; a finished task cannot be cancelled`);
    }
    return taskContext.actOnTask(id, channel, {
      completion: { status: "failed", error: reason ? `cancelled: ${reason}` : "cancelled" },
    });
  }

  return { approveTask, rejectTask, cancelTask };
}

/** The same decision again, on the same step (or on no step named): a replay that changes nothing. */
function isReplay(task: Task, kind: Approval["decision"], step: number | undefined): boolean {
  if (task.approval?.decision !== kind) return false;
  return step === undefined || task.approval.step === undefined || task.approval.step === step;
}

/**
 * 409 unless the task waits for a decision now, on the step the person saw (when named). A
 * request naming a step but no tool call showed that step's own approval: it cannot decide a
 * tool call the step asked about since (a step's button pressed late, a message not yet edited).
 */
function requireWaitingStep(
  task: Task,
  active: boolean,
  kind: Approval["decision"],
  step: number | undefined,
  approvalId: string | undefined,
): void {
  const verb = kind === "approved" ? "approved" : "rejected";
  if (!active || task.status !== "pending-approval") {
    throw conflict(
      `task ${task.taskId} is ${task.status}; only a task waiting for approval (pending-approval) can be ${verb}`,
    );
  }
  const waiting = waitingStep(task);
  if (step !== undefined && step !== waiting) {
    throw conflict(
      `task ${task.taskId} waits for a decision on step ${waiting}, not step ${step}: what you saw is out of date, nothing was ${verb}; look at the task again`,
    );
  }
  const call = task.awaitingApproval;
  if (step !== undefined && approvalId === undefined && call?.kind === "tool" && call.id) {
    throw conflict(
      `task ${task.taskId} now waits on tool call ${call.id} (${call.summary || call.title}), not on step ${step}'s own approval: ` +
        `what you saw is out of date, nothing was ${verb}; look at the task again (a decision on the call names its approvalId)`,
    );
  }
}
