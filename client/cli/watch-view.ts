// What `switchboard watch` draws: a pure function from the mirrored documents, the connection
// state and the time to the lines of the terminal view (one progress bar per task, health line).
import stringWidth from "string-width";
import type { Context, Health, Task } from "../../shared/schemas.ts";
import type { ConnectionState } from "../hub-client.ts";
import { healthSentence, percent, remainingText, stepSentence, summarySentence, taskSentence } from "../phrasing.ts";

export const BAR_WIDTH = 20;

export interface WatchInput {
  context: Context | null;
  health: Health | null;
  connection: ConnectionState;
  hubUrl: string;
  now: number;
  /** Terminal columns; lines are cut to fit (measured in columns, wide characters count two). */
  width: number;
}

/** `[████████░░░░░░░░░░░░]` for a percent; unknown progress draws a dotted bar. */
export function progressBar(done: number | null, width = BAR_WIDTH): string {
  if (done === null) return `[${"·".repeat(width)}]`;
  const filled = Math.round((Math.max(0, Math.min(100, done)) / 100) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}]`;
}

const CONNECTION_WORDS: Record<ConnectionState, string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting… (showing the last known state)",
  closed: "closed",
};

const STATUS_WORDS: Record<Task["status"], string> = {
  running: "running",
  queued: "queued",
  "pending-approval": "waiting for your approval",
  complete: "finished",
  failed: "failed",
};

/** One task's line: bar, percent, description, and what it is doing and how long is left. */
export function taskLine(task: Task, now: number): string {
  const done = percent(task);
  const pct = done === null ? "  ?%" : `${String(done).padStart(3)}%`;
  const detail = [STATUS_WORDS[task.status], stepSentence(task), remainingText(task.eta, now)].filter(Boolean);
  return `${progressBar(done)} ${pct}  ${task.description.replace(/\s+/g, " ")} · ${detail.join(" · ")}`;
}

const graphemes = new Intl.Segmenter();

/**
 * `line` cut to `width` terminal columns, ending in "…" when cut. Columns, not code points: a wide
 * character (CJK, most emoji) takes two, a combining mark or joined emoji sequence none extra.
 */
export function fitWidth(line: string, width: number): string {
  if (stringWidth(line) <= width) return line;
  let kept = "";
  let used = 0;
  for (const { segment } of graphemes.segment(line)) {
    const columns = stringWidth(segment);
    if (used + columns > width - 1) break;
    kept += segment;
    used += columns;
  }
  return `${kept}…`;
}

/** The whole view, one string per terminal line. */
export function renderWatch(input: WatchInput): string[] {
  const { context, health, now } = input;
  const lines = [`Switchboard ${input.hubUrl} — ${CONNECTION_WORDS[input.connection]}`];
  if (!context) {
    lines.push("Waiting for the hub…");
  } else {
    lines.push(`${summarySentence(context, now)}.`);
    for (const task of context.activeTasks) lines.push(taskLine(task, now));
    const last = context.recentCompleted[0];
    if (last) lines.push(`Last finished: ${taskSentence(last, context, now)}`);
  }
  lines.push(`Backends: ${health ? healthSentence(health) : "not known yet"}`);
  return lines.map((line) => fitWidth(line, Math.max(20, input.width)));
}
