// What the Telegram bot says: a task's message (with Approve / Reject while it waits) and the
// /status summary. Plain text (no parse mode), so task text never needs escaping.
import type { Context, Health, Task } from "../../shared/schemas.ts";
import { healthSentence, stepSentence, summarySentence, taskSentence } from "../phrasing.ts";

export interface TelegramView {
  text: string;
  /** Inline buttons under the message; null when nothing waits on the person. */
  buttons: { text: string; data: string }[] | null;
}

/** Telegram refuses callback_data over 64 bytes. */
const CALLBACK_DATA_LIMIT = 64;
/** Telegram refuses a message text over 4096 characters. */
export const TEXT_LIMIT = 4096;

/** Cuts text to `max` characters, marking the cut, so a long error never makes a send fail. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const ICON: Record<Task["status"], string> = {
  running: "▶️",
  queued: "⏳",
  "pending-approval": "✋",
  complete: "✅",
  failed: "❌",
};

/** The task's message: what it is, one sentence on where it stands, the step, and its id. */
export function renderTask(task: Task, now: Date, context: Context | null = null): TelegramView {
  const lines = [`${ICON[task.status]} ${task.description}`, taskSentence(task, context, now)];
  const active = task.status !== "complete" && task.status !== "failed";
  const step = active ? stepSentence(task) : "";
  if (step) lines.push(step);
  if (task.status === "pending-approval" && task.awaitingApproval?.detail) {
    lines.push(task.awaitingApproval.detail.slice(0, 500));
  }
  // The id line survives any cut: /task and the buttons depend on it.
  const idLine = `id: ${task.taskId}`;
  const text = `${clip(lines.join("\n"), TEXT_LIMIT - idLine.length - 1)}\n${idLine}`;
  return { text, buttons: task.status === "pending-approval" ? approvalButtons(task.taskId) : null };
}

function approvalButtons(taskId: string): TelegramView["buttons"] {
  // The id rides in the button when it fits; otherwise the adapter finds the task by its message.
  const data = (action: string) =>
    Buffer.byteLength(`${action}:${taskId}`) <= CALLBACK_DATA_LIMIT ? `${action}:${taskId}` : action;
  return [
    { text: "Approve", data: data("approve") },
    { text: "Reject", data: data("reject") },
  ];
}

/** `/status`: active tasks, what waits for approval, and backend health, in a few lines. */
export function renderStatus(context: Context | null, health: Health | null, now: Date): string {
  if (!context) return "The hub has not answered yet; try again in a moment.";
  const lines = [`${summarySentence(context)}.`];
  for (const task of context.activeTasks) lines.push(`• ${taskSentence(task, context, now)} [${task.taskId}]`);
  lines.push(`${healthSentence(health, now)}.`);
  return clip(lines.join("\n"), TEXT_LIMIT);
}
