// What a spoken sentence asks for, decided from its words, the live context and the voice
// channel's last task: start a task, hear the status, approve or reject the one waiting task (or
// ask which), or continue the last task's conversation. Pure, so every phrasing is table-tested.
import type { Context, Task } from "../../shared/schemas.ts";
import { countWord, taskLabel } from "../phrasing.ts";

export type Decision = "approve" | "reject";

export type Utterance =
  /**
   * "start …", "new task …": a new task with this text (empty when only the verb was heard).
   * "… in workspace site" / "… in the site workspace" at the end may name a workspace: `workspace`
   * holds the name and the text without those words, for the adapter to use if one is so named.
   */
  | { kind: "start"; text: string; workspace?: { name: string; text: string } }
  /** "status", "how is the OCR task": one task's sentence, or everything when `taskId` is null. */
  | { kind: "status"; taskId: string | null }
  /** "approve", "reject the deploy": the task it decides. */
  | { kind: "decide"; decision: Decision; taskId: string }
  /** Several tasks wait and the words did not single one out. */
  | { kind: "which"; decision: Decision; taskIds: string[] }
  /** Nothing waits for a decision. */
  | { kind: "nothing-waits"; decision: Decision }
  /** Anything else, said while the voice channel has a task: added to that task. */
  | { kind: "follow-up"; taskId: string; text: string }
  /** Silence, or only punctuation. */
  | { kind: "empty" };

const START = /^(?:please\s+)?(?:start|begin|new\s+task|create\s+(?:a\s+)?(?:new\s+)?task)\b[\s,:;.-]*/i;
/** After "start": "a new task to …", "a task: …" are the verb's own words, not the task's. */
const START_FILLER = /^(?:(?:a|an|the)\s+)?(?:new\s+)?task\b[\s,:;.-]*(?:(?:to|that|which|for)\s+)?/i;
/** "… in workspace site", "… in the site workspace": a workspace named at the end of a start. */
const IN_WORKSPACE = /[\s,]+in\s+(?:the\s+)?(?:workspace\s+([\p{L}\p{N}_-]+)|([\p{L}\p{N}_-]+)\s+workspace)$/iu;
const STATUS = /^(?:status|what(?:'s|\s+is)\s+(?:happening|going\s+on|running|up)|anything\s+running)\b/i;
const HOW = /^how(?:'s|\s+is|\s+are)\s+(.*)$/i;
const APPROVE = /^(?:yes[\s,]+)?(?:approve|approved|go\s+ahead)\b(.*)$/i;
const REJECT = /^(?:no[\s,]+)?(?:reject|rejected|deny|decline)\b(.*)$/i;

/** Words that name no task: "how is my OCR task going" is about "ocr". */
const FILLER = new Set(
  "a an the my your our this that it its task tasks job going doing coming along getting on with one please things everything".split(
    " ",
  ),
);

/** Whatever follows the verb of a decision or a question, as the words that may name a task. */
function namingWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter((word) => word.length > 0 && !FILLER.has(word));
}

/** The tasks whose description holds every naming word (none when no words were given). */
function tasksNamed(tasks: Task[], words: string[]): Task[] {
  if (words.length === 0) return [];
  return tasks.filter((task) => {
    const description = namingWords(task.description);
    return words.every((word) => description.some((d) => d.startsWith(word)));
  });
}

export function interpretUtterance(heard: string, context: Context | null, lastTaskId: string | null): Utterance {
  const text = heard.trim().replace(/[\s.!?]+$/, "");
  if (!/[\p{L}\p{N}]/u.test(text)) return { kind: "empty" };
  const active = context?.activeTasks ?? [];
  const known = [...active, ...(context?.recentCompleted ?? [])];

  const start = START.exec(text);
  if (start) {
    const task = text.slice(start[0].length).replace(START_FILLER, "").trim();
    const named = IN_WORKSPACE.exec(task);
    const name = named?.[1] ?? named?.[2];
    if (!named || !name) return { kind: "start", text: task };
    const without = task.slice(0, named.index).trim();
    return { kind: "start", text: task, workspace: { name: name.toLowerCase(), text: without } };
  }

  if (STATUS.test(text)) return { kind: "status", taskId: null };
  const how = HOW.exec(text);
  if (how) {
    const [named] = tasksNamed(known, namingWords(how[1] ?? ""));
    return { kind: "status", taskId: named?.taskId ?? null };
  }

  const approve = APPROVE.exec(text);
  const reject = approve ? null : REJECT.exec(text);
  const decided = approve ?? reject;
  if (decided) {
    const decision: Decision = approve ? "approve" : "reject";
    const waiting = active.filter((task) => task.status === "pending-approval");
    if (waiting.length === 0) return { kind: "nothing-waits", decision };
    if (waiting.length === 1) return { kind: "decide", decision, taskId: (waiting[0] as Task).taskId };
    const named = tasksNamed(waiting, namingWords(decided[1] ?? ""));
    if (named.length === 1) return { kind: "decide", decision, taskId: (named[0] as Task).taskId };
    return { kind: "which", decision, taskIds: waiting.map((task) => task.taskId) };
  }

  const last = lastTaskId ? known.find((task) => task.taskId === lastTaskId) : undefined;
  if (last) return { kind: "follow-up", taskId: last.taskId, text };
  return { kind: "start", text };
}

/** "Two tasks wait for your approval: your deploy task and your backup task. Say approve and the task's name." */
export function whichSentence(decision: Decision, tasks: Pick<Task, "description">[]): string {
  const names = tasks.map((task) => {
    const label = taskLabel(task);
    return label.charAt(0).toLowerCase() + label.slice(1);
  });
  const list = names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  const count = countWord(tasks.length);
  return `${count.charAt(0).toUpperCase()}${count.slice(1)} tasks wait for your approval: ${list}. Say ${decision} and the task's name.`;
}
