// What the dashboard shows, decided from the two documents and the time: pure functions from
// Context + Health + now to the text of every section. The DOM code only copies these strings.
import {
  type BackendHealth,
  type Channel,
  type Context,
  EDIT_TOOLS,
  type Health,
  type HealthStatus,
  type Task,
  type UsageDocument,
  waitingStep,
} from "../../shared/schemas.ts";
import { clockTime } from "../limit-phrasing.ts";
import { percent, planStep, remainingText, stepSentence, workspaceText } from "../phrasing.ts";
import { costText, countsText, tokensText, usageSummary } from "../usage-view.ts";
import { type BackendChoice, backendChoices } from "./new-task-view.ts";

export interface QueueItem {
  taskId: string;
  description: string;
  status: Task["status"];
  badge: string;
  /** Whole percent, 0..100, for the bar's width and aria-valuenow. */
  percent: number;
  percentText: string;
  stepText: string;
  etaText: string;
  channelText: string;
  backendText: string;
  /** "workspace site" for a task in a configured workspace; "" for one in the hub's data folder. */
  workspaceText: string;
  /** Changes when the answer may have (see answerKey); null before any step answered. */
  answerKey: string | null;
}

export interface ApprovalItem {
  taskId: string;
  /** The step shown waiting; a button press sends it, so a stale card cannot decide a later step. */
  step: number;
  /** The tool call shown waiting, if it is one: a press decides that call and no later one. */
  approvalId: string | null;
  description: string;
  whatTitle: string;
  whatDetail: string;
  /** How the detail is shown: a unified diff (an edit Claude asks about), a command (Bash), or text. */
  detailKind: DetailKind;
  channelText: string;
}

export type DetailKind = "diff" | "command" | "text";

/** One line of a unified diff as the approval card styles it. */
export interface DiffLine {
  kind: "file" | "hunk" | "add" | "remove" | "context" | "note";
  text: string;
}

export interface FinishedItem {
  taskId: string;
  description: string;
  status: Task["status"];
  badge: string;
  /** The output path for a completed task, the error for a failed one. */
  detailText: string;
  whenText: string;
  whenIso: string;
  answerKey: string | null;
}

export interface BackendItem {
  name: string;
  status: HealthStatus;
  statusLabel: string;
  pingedText: string;
  versionText: string;
  latencyText: string;
  /** The reason, only when dead or limited. */
  reasonText: string | null;
  prewarmedText: string;
  /** Recent ping latencies in ms, oldest first. */
  latencies: number[];
}

export interface ChannelItem {
  channel: Channel;
  activeText: string;
  lastTaskText: string;
}

/**
 * When a task's answer may have changed: a step started or ended, or the task finished or was
 * reopened. The card fetches the output again only when this changes, and not at all (null)
 * while no step can have answered yet.
 */
export function answerKey(task: Pick<Task, "status" | "currentStep" | "totalSteps">): string | null {
  const finished = task.status === "complete" || task.status === "failed";
  if (!finished && task.status !== "pending-approval" && task.currentStep <= 1) return null;
  return `${task.status}:${task.currentStep}:${task.totalSteps}`;
}

/** One backend in the usage panel: today, the last 7 days, and a bar per day (tokens). */
export interface UsageItem {
  backend: string;
  todayText: string;
  weekText: string;
  bars: { day: string; label: string; tokens: number; heightPercent: number }[];
}

export interface DashboardView {
  queue: QueueItem[];
  approvals: ApprovalItem[];
  finished: FinishedItem[];
  backends: BackendItem[];
  channels: ChannelItem[];
  backendChoices: BackendChoice[];
  usage: UsageItem[];
}

const BADGES: Record<Task["status"], string> = {
  running: "running",
  queued: "queued",
  "pending-approval": "waiting for approval",
  complete: "complete",
  failed: "failed",
};

export const RECENT_SHOWN = 10;

export function dashboardView(
  context: Context | null,
  health: Health | null,
  now: Date,
  usage: UsageDocument | null = null,
): DashboardView {
  const active = context?.activeTasks ?? [];
  return {
    queue: active.map((task) => queueItem(task, now)),
    approvals: active.filter((task) => task.status === "pending-approval").map(approvalItem),
    finished: (context?.recentCompleted ?? []).slice(0, RECENT_SHOWN).map((task) => finishedItem(task, now)),
    backends: Object.entries(health?.backends ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, entry]) => backendItem(name, entry, now)),
    channels: context ? channelItems(context, now) : [],
    backendChoices: backendChoices(health),
    usage: usageItems(usage, now),
  };
}

/** The usage panel: per backend, today and 7 days in words, and 7 bars scaled to the busiest day of any backend. */
export function usageItems(usage: UsageDocument | null, now: Date): UsageItem[] {
  const summary = usageSummary(usage, now.getTime());
  const tokensOf = (c: { inputTokens: number; outputTokens: number }) => c.inputTokens + c.outputTokens;
  const busiest = Math.max(1, ...summary.rows.flatMap((row) => row.days.map(({ counts }) => tokensOf(counts))));
  return summary.rows.map((row) => ({
    backend: row.backend,
    todayText: `today: ${countsText(row.today)}`,
    weekText: `7 days: ${countsText(row.week)}`,
    bars: row.days.map(({ day, counts }) => ({
      day,
      tokens: tokensOf(counts),
      heightPercent: Math.round((tokensOf(counts) / busiest) * 100),
      label: `${day}: ${counts.runs} ${counts.runs === 1 ? "run" : "runs"}, ${tokensText(tokensOf(counts))} tokens, ${costText(counts.costUsd)}`,
    })),
  }));
}

export function queueItem(task: Task, now: Date): QueueItem {
  // Unknown progress draws an empty bar; the words beside it say what is known.
  const done = percent(task) ?? 0;
  return {
    taskId: task.taskId,
    description: task.description,
    status: task.status,
    badge: BADGES[task.status],
    percent: done,
    percentText: `${done}%`,
    stepText: stepSentence(task),
    etaText: remainingText(task.eta, now) ?? "",
    channelText: `from ${task.startedFrom}`,
    backendText: backendText(task),
    workspaceText: workspaceText(task) ?? "",
    answerKey: answerKey(task),
  };
}

function backendText(task: Task): string {
  if (!task.backend) return "backend not chosen yet";
  if (task.start === "warm") return `${task.backend} · warm start`;
  if (task.start === "cold") return `${task.backend} · cold start`;
  return task.backend;
}

export function approvalItem(task: Task): ApprovalItem {
  const waiting = task.awaitingApproval;
  const number = waitingStep(task);
  const step = planStep(task.plan, number);
  const whatDetail = waiting?.detail || step?.prompt || task.lastUpdate;
  return {
    taskId: task.taskId,
    step: number,
    approvalId: waiting?.kind === "tool" && waiting.id ? waiting.id : null,
    description: task.description,
    whatTitle: waiting?.title || step?.title || "approve this task to continue",
    whatDetail,
    detailKind: waiting?.kind === "tool" ? toolDetailKind(waiting.tool, whatDetail) : "text",
    channelText: `from ${task.startedFrom}`,
  };
}

/** A Bash call's detail is its command; an edit's is a diff (or, when the hub could not make one, its input as JSON). */
function toolDetailKind(tool: string | undefined, detail: string): DetailKind {
  if (tool === "Bash") return "command";
  if (tool && EDIT_TOOLS.has(tool) && detail.startsWith("--- ")) return "diff";
  return "text";
}

/** A unified diff, line by line, each with what it is: file header, hunk header, added, removed, unchanged, or a note. */
export function diffLines(diff: string): DiffLine[] {
  const lines = diff.endsWith("\n") ? diff.slice(0, -1).split("\n") : diff.split("\n");
  return lines.map((text): DiffLine => {
    if (text.startsWith("--- ") || text.startsWith("+++ ")) return { kind: "file", text };
    if (text.startsWith("@@")) return { kind: "hunk", text };
    if (text.startsWith("+")) return { kind: "add", text };
    if (text.startsWith("-")) return { kind: "remove", text };
    if (text.startsWith(" ") || text === "") return { kind: "context", text };
    // "\ No newline at end of file", "… (1200 more characters not shown)", separators.
    return { kind: "note", text };
  });
}

export function finishedItem(task: Task, now: Date): FinishedItem {
  const at = task.completedAt ?? task.updatedAt;
  let detailText: string;
  if (task.status === "failed") detailText = task.error ? `error: ${task.error}` : "failed without an error message";
  else if (task.outputPath) detailText = `output: ${task.outputPath}`;
  else if (task.result === undefined) detailText = "no output file";
  // A publisher's own result object is shown as its JSON text.
  else detailText = typeof task.result === "string" ? task.result : JSON.stringify(task.result);
  return {
    taskId: task.taskId,
    description: task.description,
    status: task.status,
    badge: BADGES[task.status],
    detailText,
    whenText: `${task.status === "failed" ? "failed" : "finished"} ${ago(at, now)}`,
    whenIso: at,
    answerKey: answerKey(task),
  };
}

export function backendItem(name: string, entry: BackendHealth, now: Date): BackendItem {
  const ready = entry.prewarmed.filter((session) => session.state === "ready").length;
  return {
    name,
    status: entry.status,
    statusLabel:
      entry.status === "limited" && entry.limitedUntil
        ? `limited until ${clockTime(entry.limitedUntil, now)}`
        : entry.status,
    pingedText: entry.lastPing ? `pinged ${ago(entry.lastPing, now)}` : "never pinged",
    versionText: entry.version ?? "version unknown",
    latencyText: entry.latencyMs === null ? "" : `${Math.round(entry.latencyMs)} ms`,
    reasonText:
      entry.status === "dead"
        ? (entry.reason ?? "the last ping failed")
        : entry.status === "limited"
          ? (entry.limitReason ?? "a usage limit was reached")
          : null,
    prewarmedText:
      entry.prewarmed.length === 0
        ? "no pre-warmed session"
        : `${ready} of ${entry.prewarmed.length} pre-warmed ${entry.prewarmed.length === 1 ? "session" : "sessions"} ready`,
    latencies: entry.latencyHistory.map((point) => point.ms),
  };
}

function channelItems(context: Context, now: Date): ChannelItem[] {
  const tasks = new Map<string, Task>();
  for (const task of [...context.recentCompleted, ...context.activeTasks]) tasks.set(task.taskId, task);
  return (Object.entries(context.channelHistory) as [Channel, NonNullable<Context["channelHistory"][Channel]>][])
    .sort(([, a], [, b]) => b.lastActive.localeCompare(a.lastActive))
    .map(([channel, state]) => {
      const task = state.lastTaskId ? tasks.get(state.lastTaskId) : undefined;
      return {
        channel,
        activeText: `active ${ago(state.lastActive, now)}`,
        lastTaskText: task
          ? `last task: ${task.description}`
          : state.lastTaskId
            ? `last task: ${state.lastTaskId}`
            : "no task yet",
      };
    });
}

/** "just now", "3 minutes ago", "2 hours ago", "yesterday"-free and unambiguous. */
export function ago(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return minutes === 1 ? "1 minute ago" : `${minutes} minutes ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return hours === 1 ? "1 hour ago" : `${hours} hours ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** SVG polyline points for a latency sparkline of the given size; empty below two points. */
export function sparklinePoints(latencies: readonly number[], width: number, height: number): string {
  if (latencies.length < 2) return "";
  const max = Math.max(...latencies, 1);
  const step = width / (latencies.length - 1);
  return latencies
    .map((ms, i) => `${(i * step).toFixed(1)},${(height - 1 - (ms / max) * (height - 2)).toFixed(1)}`)
    .join(" ");
}
