// What the Telegram bot says: a task's message (with Approve / Reject while it waits) and the
// /status summary. Plain text (no parse mode), so task text never needs escaping; a tool call's
// command or diff is marked as a code block by a `pre` entity over its range of the text.

import { createHash } from "node:crypto";
import { type Context, EDIT_TOOLS, type Health, type Task, waitingStep } from "../../shared/schemas.ts";
import type { TaskMessageRenderer } from "../chat-messages.ts";
import {
  answerHead,
  cutApprovalSentence,
  healthSentence,
  stepSentence,
  summarySentence,
  taskSentence,
  workspaceText,
} from "../phrasing.ts";

/** A Bot API MessageEntity: offset and length count UTF-16 code units, as JavaScript strings do. */
export interface TextEntity {
  type: "pre";
  offset: number;
  length: number;
  language?: string;
}

export interface TelegramView {
  text: string;
  /** Formatting of ranges of `text` (a code block); absent when there is none. */
  entities?: TextEntity[];
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

/** Room for the task's own lines above a long approval text, so the text gets the most of the message. */
const HEAD_ROOM = 1200;

/** The code block's language for a tool's detail: Telegram apps colour it. */
function codeLanguage(tool: string | undefined): string | undefined {
  if (tool === "Bash") return "bash";
  if (tool && EDIT_TOOLS.has(tool)) return "diff";
  return tool ? "json" : undefined;
}

/**
 * The task's message: what it is, one sentence on where it stands, the step, the workspace it works
 * in (when it has one), and its id. While it waits, what waits (a step's prompt, or a tool call's
 * command or diff as a code block), never cut silently: a text longer than the message allows is
 * cut at a line end with a line saying so and where to read it whole.
 */
export const renderTask: TaskMessageRenderer<TelegramView> = (task, now, context = null, options = {}) => {
  const lines = [`${ICON[task.status]} ${task.description}`, taskSentence(task, context, now)];
  const active = task.status !== "complete" && task.status !== "failed";
  const step = active ? stepSentence(task) : "";
  if (step) lines.push(step);
  const workspace = workspaceText(task);
  if (workspace) lines.push(workspace);
  // The id line survives any cut: /task depends on it.
  const idLine = `id: ${task.taskId}`;
  const waiting = task.status === "pending-approval" ? task.awaitingApproval : null;
  const buttons = task.status === "pending-approval" ? approvalButtons(task) : null;
  if (!waiting?.detail) {
    return { text: `${clip(lines.join("\n"), TEXT_LIMIT - idLine.length - 1)}\n${idLine}`, buttons };
  }

  const head = clip(lines.join("\n"), HEAD_ROOM);
  const detail = waiting.detail;
  let room = TEXT_LIMIT - head.length - idLine.length - 2;
  let shown = detail;
  let notice: string | null = null;
  if (detail.length > room) {
    // The notice's numbers have at most as many digits as these, so it fits where this one does.
    room -= cutApprovalSentence(room, detail.length, options.dashboardUrl ?? null).length + 1;
    shown = answerHead(detail, room).head;
    notice = cutApprovalSentence(shown.length - 1, detail.length, options.dashboardUrl ?? null);
  }
  const text = [head, shown, ...(notice ? [notice] : []), idLine].join("\n");
  if (waiting.kind !== "tool") return { text, buttons };
  const language = codeLanguage(waiting.tool);
  const entity: TextEntity = {
    type: "pre",
    offset: head.length + 1,
    length: shown.length,
    ...(language ? { language } : {}),
  };
  return { text, entities: [entity], buttons };
};

/**
 * Approve / Reject for what waits now. The callback data names the step and, for a tool call, its
 * approvalId (or, when that would pass Telegram's 64 bytes, a digest of it) — never the task:
 * the adapter acts on the task whose message the button sits on.
 */
function approvalButtons(task: Task): TelegramView["buttons"] {
  const step = waitingStep(task);
  const id = task.awaitingApproval?.id;
  const data = (action: string) => {
    if (!id) return `${action}:${step}`;
    const whole = `${action}:${step}:${id}`;
    return Buffer.byteLength(whole) <= CALLBACK_DATA_LIMIT ? whole : `${action}:${step}:#${approvalDigest(id)}`;
  };
  return [
    { text: "Approve", data: data("approve") },
    { text: "Reject", data: data("reject") },
  ];
}

/** Names a long approvalId within callback_data: 16 characters of its SHA-256. */
export function approvalDigest(approvalId: string): string {
  return createHash("sha256").update(approvalId).digest("base64url").slice(0, 16);
}

/** What a pressed button asks: the decision, the step it showed, and the tool call (its id or digest). */
export interface PressedButton {
  action: "approve" | "reject";
  step: number;
  approval: { id: string } | { digest: string } | null;
}

/** Reads callback data made by approvalButtons; anything else (an older button, a forgery) is null. */
export function parseButtonData(data: string): PressedButton | null {
  const match = /^(approve|reject):(\d{1,3})(?::(#[A-Za-z0-9_-]{16}|[A-Za-z0-9_-]{1,100}))?$/.exec(data);
  if (!match) return null;
  const [, action, step, approval] = match as unknown as [string, "approve" | "reject", string, string | undefined];
  return {
    action,
    step: Number(step),
    approval:
      approval === undefined ? null : approval.startsWith("#") ? { digest: approval.slice(1) } : { id: approval },
  };
}

/** `/status`: active tasks, what waits for approval, and backend health, in a few lines. */
export function renderStatus(context: Context | null, health: Health | null, now: Date): string {
  if (!context) return "The hub has not answered yet; try again in a moment.";
  const lines = [`${summarySentence(context)}.`];
  for (const task of context.activeTasks) lines.push(`• ${taskSentence(task, context, now)} [${task.taskId}]`);
  lines.push(`${healthSentence(health, now)}.`);
  return clip(lines.join("\n"), TEXT_LIMIT);
}
