// Turning a backend's streamed output into `lastUpdate` text (throttled, so a flood of output
// is a handful of versions, not thousands) and the steps' answers into one output file.
import type { Clock, TimerHandle } from "../../shared/clock.ts";

const LINE_MAX = 200;

/** The last non-empty line of what has streamed so far, on one line and short. */
export function outputLine(text: string, max = LINE_MAX): string {
  const lines = text.split(/\r?\n/).map((line) => line.replace(/\s+/g, " ").trim());
  const last = lines.filter(Boolean).pop() ?? "";
  return last.length > max ? `…${last.slice(last.length - (max - 1))}` : last;
}

/**
 * The answers so far as one Markdown document: a single answer as is; several as numbered
 * sections under the task's description; nothing answered yet, an empty document.
 */
export function composeOutput(description: string, answers: { step: number; title: string; answer: string }[]): string {
  if (answers.length === 0) return "";
  if (answers.length === 1) return ensureNewline(answers[0]?.answer ?? "");
  const sections = answers.map((a) => `## ${a.step}. ${a.title}\n\n${a.answer.trim()}\n`);
  return `# ${description}\n\n${sections.join("\n")}`;
}

const ensureNewline = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);

export interface Throttle {
  /** Offers the latest text; published at once if the last publish is old enough, else later. */
  push(text: string): void;
  /** Drops any pending publish (the step ended; its own update says the rest). */
  cancel(): void;
}

/** Publishes at most once per `ms`, the first at once and the latest text at the end of each wait. */
export function createThrottle(clock: Clock, ms: number, publish: (text: string) => void): Throttle {
  let lastAt = Number.NEGATIVE_INFINITY;
  let pending: string | null = null;
  let timer: TimerHandle | null = null;
  const fire = () => {
    timer = null;
    if (pending === null) return;
    const text = pending;
    pending = null;
    lastAt = clock.now();
    publish(text);
  };
  return {
    push(text) {
      pending = text;
      if (timer) return;
      const wait = lastAt + ms - clock.now();
      if (wait <= 0) fire();
      else {
        timer = clock.setTimeout(fire, wait);
        timer.unref?.();
      }
    },
    cancel() {
      if (timer) clock.clearTimeout(timer);
      timer = null;
      pending = null;
    },
  };
}
