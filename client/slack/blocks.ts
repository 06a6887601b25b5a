// What Switchboard says in Slack, as Block Kit: a task's message (progress, step, ETA, and
// Approve / Reject buttons while it waits), the `/switchboard status` and `/switchboard task`
// replies. The hub's Slack endpoint is handed these views by the entry point.

import type { Button, KnownBlock, MrkdwnElement } from "@slack/web-api";
import { type ApprovalButton, type Context, type Health, type Task, waitingStep } from "../../shared/schemas.ts";
import type { TaskMessageRenderer } from "../chat-messages.ts";
import { parseChatStart, textProblem } from "../intake.ts";
import {
  answerHead,
  cutApprovalSentence,
  followUpSentence,
  healthSentence,
  notTakenSentence,
  percent,
  startedSentence,
  stepSentence,
  summarySentence,
  taskSentence,
  workspaceText,
} from "../phrasing.ts";

export interface SlackView {
  /** The notification and fallback text. */
  text: string;
  blocks: KnownBlock[];
}

/** action_id of the buttons; the hub's Slack endpoint acts on exactly these. */
export const APPROVE_ACTION = "approve";
export const REJECT_ACTION = "reject";

const ICON: Record<Task["status"], string> = {
  running: ":arrow_forward:",
  queued: ":hourglass_flowing_sand:",
  "pending-approval": ":raised_hand:",
  complete: ":white_check_mark:",
  failed: ":x:",
};

/** Slack reads &, < and > in text as markup; task text must arrive as written. */
export function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Slack refuses a section or context text over 3000 characters. */
export const BLOCK_TEXT_LIMIT = 3000;

/** Cut to Slack's block limit, marking the cut, so a long error never makes an update fail. */
const mrkdwn = (text: string): MrkdwnElement => ({
  type: "mrkdwn",
  text: text.length <= BLOCK_TEXT_LIMIT ? text : `${text.slice(0, BLOCK_TEXT_LIMIT - 1)}…`,
});

/** Ten cells, one per 10 %: "▰▰▰▱▱▱▱▱▱▱ 30%". */
export function progressBar(done: number): string {
  const filled = Math.max(0, Math.min(10, Math.round(done / 10)));
  return `${"▰".repeat(filled)}${"▱".repeat(10 - filled)} ${done}%`;
}

export const renderTask: TaskMessageRenderer<SlackView> = (task, now, context = null, options = {}) => {
  const sentence = taskSentence(task, context, now);
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: mrkdwn(`${ICON[task.status]} *${escapeText(task.description)}*\n${escapeText(sentence)}`),
    },
  ];
  const active = task.status !== "complete" && task.status !== "failed";
  const details: string[] = [];
  const done = percent(task);
  if (active && done !== null) details.push(progressBar(done));
  const step = active ? stepSentence(task) : "";
  if (step) details.push(escapeText(step));
  const workspace = workspaceText(task);
  if (workspace) details.push(escapeText(workspace));
  details.push(`id \`${escapeText(task.taskId)}\``);
  blocks.push({ type: "context", elements: [mrkdwn(details.join("  ·  "))] });
  if (task.status === "pending-approval") {
    if (task.awaitingApproval?.detail) {
      blocks.push(...approvalDetailBlocks(task.awaitingApproval.detail, options.dashboardUrl ?? null));
    }
    const value = approvalButtonValue(task);
    blocks.push({
      type: "actions",
      block_id: "switchboard_approval",
      elements: [button("Approve", APPROVE_ACTION, value, "primary"), button("Reject", REJECT_ACTION, value, "danger")],
    });
  }
  return { text: sentence, blocks };
};

/**
 * The buttons' value: the task, the step waiting and, for a tool call, its approvalId. The hub
 * decides exactly that or nothing (409), so a button left on screen cannot decide a later step
 * or a later tool call of the same step.
 */
export function approvalButtonValue(task: Task): string {
  const value: ApprovalButton = {
    taskId: task.taskId,
    step: waitingStep(task),
    ...(task.awaitingApproval?.id ? { approvalId: task.awaitingApproval.id } : {}),
  };
  return JSON.stringify(value);
}

const FENCE = "```";

/**
 * What waits for approval (a tool call's command or diff, a step's prompt) as a code block within
 * Slack's block limit. Escaped, and a ``` inside cannot end the block early. Too long a text is
 * shown up to a line end, and a line under it says so and where to read it whole.
 */
function approvalDetailBlocks(detail: string, dashboardUrl: string | null): KnownBlock[] {
  const render = (text: string) => `${FENCE}${escapeText(text.replace(/```/g, "``\u200b`"))}${FENCE}`;
  let room = BLOCK_TEXT_LIMIT;
  for (;;) {
    const { head, cut } = answerHead(detail, room);
    const text = render(head);
    if (text.length > BLOCK_TEXT_LIMIT) {
      room -= text.length - BLOCK_TEXT_LIMIT;
      continue;
    }
    const code: KnownBlock = { type: "section", text: { type: "mrkdwn", text } };
    if (!cut) return [code];
    const notice = cutApprovalSentence(head.length - 1, detail.length, dashboardUrl);
    return [code, { type: "context", elements: [mrkdwn(escapeText(notice))] }];
  }
}

function button(label: string, actionId: string, value: string, style: "primary" | "danger"): Button {
  return { type: "button", action_id: actionId, text: { type: "plain_text", text: label }, style, value };
}

/** `/switchboard status`: the summary, one line per active task, and backend health. */
export function renderStatus(context: Context | null, health: Health | null, now: Date): SlackView {
  if (!context) return { text: "The hub has not answered yet; try again in a moment.", blocks: [] };
  const summary = `${summarySentence(context)}.`;
  const lines = context.activeTasks.map(
    (task) => `• ${escapeText(taskSentence(task, context, now))} \`${escapeText(task.taskId)}\``,
  );
  const blocks: KnownBlock[] = [{ type: "section", text: mrkdwn(`*${summary}*`) }];
  if (lines.length > 0) blocks.push({ type: "section", text: mrkdwn(lines.join("\n")) });
  blocks.push({ type: "context", elements: [mrkdwn(escapeText(`${healthSentence(health, now)}.`))] });
  return { text: summary, blocks };
}

/** `/switchboard task <id>`: the task's own message, or why there is none. */
export function renderTaskReply(task: Task | null, taskId: string, context: Context | null, now: Date): SlackView {
  if (task) return renderTask(task, now, context);
  const text = `No task with id ${taskId}. \`/switchboard status\` lists the tasks.`;
  return { text, blocks: [{ type: "section", text: mrkdwn(escapeText(text)) }] };
}

function plain(text: string): SlackView {
  return { text, blocks: [{ type: "section", text: mrkdwn(escapeText(text)) }] };
}

/** `/switchboard new <text>` taken: what started, where it works when a workspace was named, and its id; its message follows in the channels. */
export function renderStarted(taskId: string, description: string, workspace?: string): SlackView {
  return plain(
    `${startedSentence({ description, workspace })} (${taskId}). Reply in its message's thread to add to it.`,
  );
}

/** A follow-up (a reply in a task's thread) taken: which step it became. */
export function renderFollowedUp(task: Task | null, taskId: string, step: number): SlackView {
  return plain(`${followUpSentence(task ?? { description: taskId }, step)}.`);
}

/** A start or follow-up the hub did not take, with its reason. */
export function renderNotTaken(action: "start" | "follow-up", reason: string): SlackView {
  return plain(`${notTakenSentence(action, reason)}.`);
}

/** The views the hub's Slack endpoint answers with (see server/slack-endpoint.ts). */
export const slackViews = {
  status: renderStatus,
  task: renderTaskReply,
  started: renderStarted,
  followedUp: renderFollowedUp,
  notTaken: renderNotTaken,
  textProblem: (text: string) => textProblem(text),
  parseStart: parseChatStart,
};
