// The hard caps on the context document (config `session.maxActiveTasks`, `maxTaskBytes`,
// `maxDocumentBytes`): whether a change that adds or grows tasks may happen. A pure decision over
// the states before and after; only growth past a cap is refused, so a hub over a cap (the cap
// was lowered) can still shrink, and finishing a task is never judged here.
import type { Context, Task } from "../shared/schemas.ts";
import { conflict, SwitchboardError } from "./errors.ts";

export interface ContextLimits {
  /** Tasks in `activeTasks` at once. */
  maxActiveTasks: number;
  /** One task, as compact JSON (UTF-8 bytes). */
  maxTaskBytes: number;
  /** The whole document, as compact JSON (UTF-8 bytes). */
  maxDocumentBytes: number;
}

export const DEFAULT_CONTEXT_LIMITS: ContextLimits = {
  maxActiveTasks: 500,
  maxTaskBytes: 256 * 1024,
  maxDocumentBytes: 16 * 1024 * 1024,
};

// Tasks are immutable and shared between successive states: each is measured once.
const taskSizes = new WeakMap<Task, number>();

/** A task's size as compact JSON, in bytes. */
export function taskBytes(task: Task): number {
  let size = taskSizes.get(task);
  if (size === undefined) {
    size = Buffer.byteLength(JSON.stringify(task));
    taskSizes.set(task, size);
  }
  return size;
}

/** The document's size as compact JSON, in bytes: its small fields, then each task as measured once. */
export function contextBytes(context: Context): number {
  const { activeTasks, recentCompleted } = context;
  const skeleton = Buffer.byteLength(JSON.stringify({ ...context, activeTasks: [], recentCompleted: [] }));
  let total = skeleton + Math.max(0, activeTasks.length - 1) + Math.max(0, recentCompleted.length - 1);
  for (const task of activeTasks) total += taskBytes(task);
  for (const task of recentCompleted) total += taskBytes(task);
  return total;
}

const kib = (bytes: number): string => `${Math.ceil(bytes / 1024)} KiB`;

/** Why `after` may not follow `before`, or null when it may. */
export function limitRefusal(before: Context, after: Context, limits: ContextLimits): SwitchboardError | null {
  if (after.activeTasks.length > limits.maxActiveTasks && after.activeTasks.length > before.activeTasks.length) {
    return conflict(
      `the hub already holds ${before.activeTasks.length} active tasks, the most session.maxActiveTasks ` +
        `(${limits.maxActiveTasks}) allows; finish or cancel some first, or raise the limit in config.json`,
    );
  }
  const previous = new Map(before.activeTasks.map((task) => [task.taskId, task]));
  for (const task of after.activeTasks) {
    const old = previous.get(task.taskId);
    if (old === task) continue;
    const size = taskBytes(task);
    if (size > limits.maxTaskBytes && (!old || size > taskBytes(old))) {
      return new SwitchboardError(
        "too_large",
        `task ${task.taskId} would be ${kib(size)} as JSON, more than session.maxTaskBytes ` +
          `(${limits.maxTaskBytes} bytes); keep large content in a file and give its outputPath`,
      );
    }
  }
  const size = contextBytes(after);
  if (size > limits.maxDocumentBytes && size > contextBytes(before)) {
    return new SwitchboardError(
      "too_large",
      `the context document would be ${kib(size)} as JSON, more than session.maxDocumentBytes ` +
        `(${limits.maxDocumentBytes} bytes); finish tasks or shorten their plans first`,
    );
  }
  return null;
}
