// Progress phrasing shared by every channel (voice, Telegram, Slack, dashboard, CLI): pure
// functions from a task, the context or the health document and an injected `now` to words.
import type { BackendHealth, Context, Health, Plan, Task } from "../shared/schemas.ts";
import { restingSentence } from "./limit-phrasing.ts";

/** A moment as the callers hold it: a Date, epoch milliseconds, or an ISO string. */
export type Moment = Date | number | string;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function millis(moment: Moment): number {
  if (typeof moment === "number") return moment;
  if (typeof moment === "string") return Date.parse(moment);
  return moment.getTime();
}

const NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/** "two", "eleven" → "11": small counts read better as words, spoken and written. */
export function countWord(n: number): string {
  return NUMBER_WORDS[n] ?? String(n);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Whole percent done, or null when nothing says how far the task is: no progress reported and
 * no steps to count. A finished task is 100; otherwise the publisher's progress wins, and the
 * steps done (those before the current one) stand in when progress is still zero.
 */
export function percent(task: Pick<Task, "status" | "progress" | "currentStep" | "totalSteps">): number | null {
  if (task.status === "complete") return 100;
  if (task.progress > 0) return Math.min(100, Math.floor(task.progress * 100));
  if (task.totalSteps > 0) return Math.floor((Math.max(0, task.currentStep - 1) / task.totalSteps) * 100);
  return null;
}

/**
 * Time left until `eta`, in words, or null without an ETA. Minutes are rounded to the nearest,
 * hours from an hour on, days from two days on; an ETA already passed is said as such rather
 * than as a negative number.
 */
export function remainingText(eta: string | null | undefined, now: Moment): string | null {
  if (!eta) return null;
  const left = Date.parse(eta) - millis(now);
  if (Number.isNaN(left)) return null;
  if (left < 0) return "taking longer than expected";
  if (left < MINUTE) return "less than a minute left";
  const minutes = Math.round(left / MINUTE);
  if (minutes < 60) return `about ${minutes} ${plural(minutes, "minute")} left`;
  if (left < 2 * DAY) {
    const hours = Math.round(left / HOUR);
    return `about ${hours} ${plural(hours, "hour")} left`;
  }
  const days = Math.round(left / DAY);
  return `about ${days} days left`;
}

/** How long ago `then` was: "just now", "5 minutes ago", "2 hours ago", "3 days ago". */
export function agoText(then: Moment, now: Moment): string {
  const elapsed = millis(now) - millis(then);
  if (elapsed < MINUTE) return "just now";
  if (elapsed < HOUR) {
    const minutes = Math.floor(elapsed / MINUTE);
    return `${minutes} ${plural(minutes, "minute")} ago`;
  }
  if (elapsed < DAY) {
    const hours = Math.floor(elapsed / HOUR);
    return `${hours} ${plural(hours, "hour")} ago`;
  }
  const days = Math.floor(elapsed / DAY);
  return `${days} ${plural(days, "day")} ago`;
}

/**
 * Step number `step` of a plan (1-based, as `currentStep` and `awaitingApproval.step` count), when
 * it reads as one (an object with a title). A plan is the publisher's own JSON object, so its steps
 * may be of any shape; the hub's full reading is `planSteps` in shared/schemas/task.ts, built on zod, which the
 * channels' bundles (CLI, voice, Telegram, Slack) do not load.
 */
export function planStep(plan: Plan, number: number): { title: string; prompt?: string } | undefined {
  const steps = plan.steps;
  const step = Array.isArray(steps) && number >= 1 ? steps[number - 1] : undefined;
  if (step === null || typeof step !== "object" || Array.isArray(step)) return undefined;
  const { title, prompt } = step as Record<string, unknown>;
  if (typeof title !== "string") return undefined;
  return typeof prompt === "string" ? { title, prompt } : { title };
}

/** Where the task is in its plan: "step 2 of 4", "3 steps planned", or null without steps. */
export function stepText(task: Pick<Task, "currentStep" | "totalSteps">): string | null {
  if (task.totalSteps <= 0) return null;
  if (task.currentStep <= 0) return `${task.totalSteps} ${plural(task.totalSteps, "step")} planned`;
  return `step ${task.currentStep} of ${task.totalSteps}`;
}

/**
 * Where the task works, as every channel names it: "workspace site" for a task in a configured
 * workspace, null for one in the hub's data folder (nothing to say).
 */
export function workspaceText(task: Pick<Task, "workspace">): string | null {
  return task.workspace ? `workspace ${task.workspace}` : null;
}

/** The step and the publisher's last word, for a progress line: "step 2 of 4 — parsing page 3". */
export function stepSentence(task: Pick<Task, "currentStep" | "totalSteps" | "lastUpdate">): string {
  const step = stepText(task);
  const update = task.lastUpdate.trim();
  // The router's own updates often start with the step ("step 2 of 4 waits for approval: …").
  if (step && update.toLowerCase().startsWith(step) && !/^\d/.test(update.slice(step.length))) return update;
  return [step, update].filter(Boolean).join(" — ");
}

const LABEL_WORDS = 2;
const LABEL_CHARS = 60;

/**
 * How a sentence names a task, from its description: a short one reads as a kind of task
 * ("OCR" → "Your OCR task"), a longer one is quoted and cut at a word ("Your task “Analyze
 * trust documents”"). Acronyms keep their case; an ordinary first word is lowercased.
 */
export function taskLabel(task: Pick<Task, "description">): string {
  const text = task.description
    .trim()
    .replace(/\s+/g, " ")
    .replace(/[.!?;:,]+$/, "");
  // "The nightly backup task" reads as "Your nightly backup task", not "Your the …".
  const words = text.replace(/^(the|a|an|my|your) (?=\S+ )/i, "").split(" ");
  const reads = words.length <= LABEL_WORDS || /\btask$/i.test(text);
  if (reads && text.length <= LABEL_CHARS) {
    const first = words[0] ?? "";
    const lowered = /^[A-Z][a-z]/.test(first) ? first.charAt(0).toLowerCase() + first.slice(1) : first;
    const phrase = [lowered, ...words.slice(1)].join(" ");
    return /\btask$/i.test(phrase) ? `Your ${phrase}` : `Your ${phrase} task`;
  }
  return `Your task “${shorten(text, LABEL_CHARS)}”`;
}

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const atWord = cut.lastIndexOf(" ");
  return `${(atWord > max / 2 ? cut.slice(0, atWord) : cut).replace(/[\s.,;:]+$/, "")}…`;
}

/** How many queued tasks are ahead of this one in the queue (the order of `activeTasks`). */
export function queuedAhead(task: Pick<Task, "taskId">, context: Pick<Context, "activeTasks"> | null): number {
  if (!context) return 0;
  let ahead = 0;
  for (const other of context.activeTasks) {
    if (other.taskId === task.taskId) return ahead;
    if (other.status === "queued") ahead += 1;
  }
  return ahead;
}

/**
 * One sentence about one task, by status: "Your OCR task is 60% done, about 12 minutes left",
 * "… is queued behind 2 others", "… is waiting for your approval", "… finished; the output is
 * in artifacts/ocr.md", "… failed: timed out". `context` places a queued task in the queue.
 */
export function taskSentence(task: Task, context: Pick<Context, "activeTasks"> | null, now: Moment): string {
  const label = taskLabel(task);
  switch (task.status) {
    case "running": {
      const left = remainingText(task.eta, now);
      return left ? `${label} ${runningPhrase(task)}, ${left}` : `${label} ${runningPhrase(task)}`;
    }
    case "queued": {
      const ahead = queuedAhead(task, context);
      if (ahead === 0) return `${label} is queued, next in line`;
      return `${label} is queued behind ${ahead} ${plural(ahead, "other")}`;
    }
    case "pending-approval": {
      const waiting = task.awaitingApproval;
      const what = waiting?.summary || waiting?.title || planStep(task.plan, waiting?.step ?? task.currentStep)?.title;
      return what ? `${label} is waiting for your approval: ${what}` : `${label} is waiting for your approval`;
    }
    case "complete":
      return task.outputPath ? `${label} finished; the output is in ${task.outputPath}` : `${label} finished`;
    case "failed":
      return task.error ? `${label} failed: ${task.error}` : `${label} failed without an error message`;
  }
}

function runningPhrase(task: Task): string {
  const done = percent(task);
  if (done === null) return "is running";
  if (done > 0) return `is ${done}% done`;
  const step = stepText(task);
  return task.currentStep > 0 && step ? `is on ${step}` : "has just started";
}

/**
 * The whole context in one sentence: "Two tasks running, one waiting for you", "One task
 * queued", "Nothing is running". Counts running, queued and waiting-for-approval tasks.
 */
export function summarySentence(context: Pick<Context, "activeTasks"> | null, _now?: Moment): string {
  const tasks = context?.activeTasks ?? [];
  const counts = [
    [tasks.filter((t) => t.status === "running").length, "running"],
    [tasks.filter((t) => t.status === "queued").length, "queued"],
    [tasks.filter((t) => t.status === "pending-approval").length, "waiting for you"],
  ] as const;
  const parts = counts
    .filter(([n]) => n > 0)
    .map(([n, what], i) => (i === 0 ? `${countWord(n)} ${plural(n, "task")} ${what}` : `${countWord(n)} ${what}`));
  if (parts.length === 0) return "Nothing is running";
  return capitalize(parts.join(", "));
}

/** One backend: "claude is warm, last ping 2 minutes ago", "ollama is dead: not installed". */
export function backendSentence(name: string, entry: BackendHealth, now: Moment): string {
  if (entry.status === "limited") return restingSentence(name, entry, now);
  if (entry.status === "dead") {
    const reason = entry.reason ? `: ${entry.reason}` : "";
    const failures = entry.consecutiveFailures > 1 ? ` (${entry.consecutiveFailures} failed pings in a row)` : "";
    return `${name} is dead${reason}${failures}`;
  }
  const ready = entry.prewarmed.filter((s) => s.state === "ready").length;
  const session = ready > 0 ? `, ${countWord(ready)} pre-warmed ${plural(ready, "session")} ready` : "";
  const ping = entry.lastSuccess ? `, last good ping ${agoText(entry.lastSuccess, now)}` : ", never pinged";
  return `${name} is ${entry.status}${session}${ping}`;
}

/**
 * Every backend in one sentence, grouped by status in the order warm, healthy, cold, dead,
 * limited, with the reason for each dead one and the end of each limit: "claude and codex are
 * warm; ollama is dead: not installed", "codex is warm; Claude is resting until 14:05 (…)".
 */
export function healthSentence(health: Pick<Health, "backends"> | null, now?: Moment, timeZone?: string): string {
  const entries = Object.entries(health?.backends ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return "No backends are configured";
  const groups: string[] = [];
  for (const status of ["warm", "healthy", "cold"] as const) {
    const names = entries.filter(([, e]) => e.status === status).map(([name]) => name);
    if (names.length > 0) groups.push(`${listWords(names)} ${names.length === 1 ? "is" : "are"} ${status}`);
  }
  for (const [name, entry] of entries.filter(([, e]) => e.status === "dead")) {
    groups.push(entry.reason ? `${name} is dead: ${entry.reason}` : `${name} is dead`);
  }
  for (const [name, entry] of entries.filter(([, e]) => e.status === "limited")) {
    groups.push(restingSentence(name, entry, now, timeZone));
  }
  if (entries.every(([, e]) => e.status === "warm" || e.status === "healthy") && entries.length > 1) {
    const all = entries.length === 2 ? "Both" : `All ${countWord(entries.length)}`;
    return `${all} backends are ready: ${groups.join("; ")}`;
  }
  // Backend names are identifiers ("claude"): a sentence that starts with one keeps its case.
  return groups.join("; ");
}

function listWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

// ---- intake, follow-ups and answers ---------------------------------------------------------

/** The task's label inside a sentence: "your OCR task", "your task “Analyze trust documents”". */
export function labelInSentence(task: Pick<Task, "description">): string {
  const label = taskLabel(task);
  return label.charAt(0).toLowerCase() + label.slice(1);
}

/** What a channel says once it handed a new task to the hub: "Started your OCR task in workspace site". */
export function startedSentence(task: Pick<Task, "description"> & { workspace?: string | null }): string {
  const where = workspaceText(task);
  return `Started ${labelInSentence(task)}${where ? ` in ${where}` : ""}`;
}

/** What a channel says once a follow-up was taken: "Added to your OCR task as step 3". */
export function followUpSentence(task: Pick<Task, "description">, step: number): string {
  return `Added to ${labelInSentence(task)} as step ${step}`;
}

/** Why a start or a follow-up was not taken, with the hub's own words on what to do. */
export function notTakenSentence(action: "start" | "follow-up", reason: string): string {
  const what = action === "start" ? "Could not start the task" : "Could not add that to the task";
  return `${what}: ${reason.replace(/[.\s]+$/, "")}`;
}

/**
 * Said under an approval's text (a step's prompt, a tool call's command or diff) that does not fit
 * one chat message: how much is shown, and where to read the whole before deciding.
 */
export function cutApprovalSentence(shown: number, total: number, dashboardUrl: string | null): string {
  const where = dashboardUrl
    ? `on the dashboard, ${dashboardUrl}, under Waiting for you`
    : "on the dashboard, under Waiting for you";
  return `Cut: this shows the first ${shown.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} characters. Read it whole ${where}, before you decide.`;
}

/** Markdown as plain words: no code blocks, markup, link targets or list bullets. */
export function markdownAsWords(markdown: string): string {
  return markdown
    .replace(/```[\s\S]*?(```|$)/g, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)/gm, "")
    .replace(/^\s*([-*_]\s*){3,}$/gm, " ")
    .replace(/(\*\*|__|\*|_|~~|`)(?=\S)([^\n]*?\S)\1/g, "$2")
    .replace(/\|/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

const SUMMARY_CHARS = 300;

/**
 * The first sentence or two of an answer, in plain words, for speech and notifications:
 * "The invoices total 4,200 euros. Three are overdue." Cut at a word past `maxChars`.
 */
export function answerSummary(markdown: string, sentences = 2, maxChars = SUMMARY_CHARS): string {
  const words = markdownAsWords(markdown);
  // A sentence ends at . ! or ?, perhaps then a closing quote (" \u201D \u2019) or parenthesis. Written as
  // escapes: the bundles stay plain ASCII, which Node reads faster (server/build.ts).
  const parts = words.match(/[^.!?]+(?:[.!?]+["\u201D\u2019)]?|$)/g) ?? [];
  const picked = parts
    .slice(0, sentences)
    .map((part) => part.trim())
    .filter(Boolean)
    .join(" ");
  return shorten(picked, maxChars);
}

/**
 * What the voice channel says when a task finishes: the task's sentence, then the first sentence
 * or two of its answer when there is one: "Your OCR task finished: The invoices total 4,200 euros."
 */
export function finishedWithAnswerSentence(task: Task, answer: string | null, now: Moment): string {
  const summary = answer ? answerSummary(answer) : "";
  if (task.status !== "complete" || !summary) return taskSentence(task, null, now);
  return `${taskLabel(task)} finished: ${summary}`;
}

/**
 * The part of a long answer that fits one chat message of `max` characters, cut at a paragraph,
 * a line or a word, and whether anything was left out (then the whole goes as a file).
 */
export function answerHead(text: string, max: number): { head: string; cut: boolean } {
  if (text.length <= max) return { head: text, cut: false };
  const room = max - 1;
  const window = text.slice(0, room);
  const at = [window.lastIndexOf("\n\n"), window.lastIndexOf("\n"), window.lastIndexOf(" ")].find(
    (index) => index > room / 2,
  );
  return { head: `${window.slice(0, at ?? room).trimEnd()}…`, cut: true };
}

/**
 * The first line of an answer sent to a chat: which task and step it answers — "Your OCR task,
 * step 2 (Summarise):", or "Your OCR task:" for a task of one step.
 */
export function answerHeading(
  task: Pick<Task, "description" | "totalSteps">,
  entry: { step: number; title: string },
): string {
  const label = taskLabel(task);
  if (task.totalSteps <= 1 && entry.step === 1) return `${label}:`;
  const title = entry.title.trim() ? ` (${entry.title.trim()})` : "";
  return `${label}, step ${entry.step}${title}:`;
}
