// Hands each step's answer to a chat channel once: watches the pushed context for a step that
// ended (the step number moved on, or the task waits, finished or failed), reads the task's
// transcript, and delivers every answer not yet delivered, in order. Shared by Telegram and Slack;
// each supplies only how to post an answer in its own API.
import type { Context, Task, TranscriptEntry } from "../shared/schemas.ts";
import type { HubClient } from "./hub-client.ts";

/** A delivered answer is known by its step and the time it was given (a step may answer again after a retry). */
export const answerId = (entry: Pick<TranscriptEntry, "step" | "at">): string => `${entry.step}@${entry.at}`;

const FINISHED: Task["status"][] = ["complete", "failed"];

/** The file name of a whole answer sent as a file: `<taskId>-step-2.md`. */
export function answerFileName(taskId: string, step: number): string {
  return `${taskId.replace(/[^A-Za-z0-9_.-]/g, "_")}-step-${step}.md`;
}

/**
 * Whether a change of a task may have brought an answer: its step moved on, or it started to wait
 * for approval, or it finished. A task first seen (`previous` undefined) is checked when it is
 * already past its first step or done.
 */
export function answerCheckDue(previous: Task | undefined, next: Task): boolean {
  const settled = FINISHED.includes(next.status) || next.status === "pending-approval";
  if (!previous) return settled || next.currentStep > 1;
  if (next.currentStep > previous.currentStep) return true;
  return settled && next.status !== previous.status;
}

/**
 * The entries still to deliver, oldest first: not delivered yet, and not older than `since` (what
 * the transcript already held when the channel first saw the task, delivered by an earlier run).
 */
export function answersToDeliver(
  entries: TranscriptEntry[],
  delivered: ReadonlySet<string>,
  since: string | null,
): TranscriptEntry[] {
  return entries
    .filter((entry) => !delivered.has(answerId(entry)) && (since === null || entry.at > since))
    .sort((a, b) => a.at.localeCompare(b.at) || a.step - b.step);
}

export interface AnswerFeedOptions {
  hub: HubClient;
  /** Posts one answer; a rejection is logged and the answer tried again at the task's next change. */
  deliver(task: Task, entry: TranscriptEntry): Promise<void>;
  log(message: string): void;
}

export interface AnswerFeed {
  /** Resolves once every delivery started so far has ended. */
  settled(): Promise<void>;
  stop(): void;
}

export function createAnswerFeed(options: AnswerFeedOptions): AnswerFeed {
  const { hub } = options;
  let previous = new Map<string, Task>();
  let first = true;
  /** Per task: the answers delivered, and the moment before which the transcript counts as old news. */
  const delivered = new Map<string, Set<string>>();
  const since = new Map<string, string>();
  /** One reading per task at a time, so two quick changes never deliver an answer twice. */
  const chains = new Map<string, Promise<void>>();
  let stopped = false;

  function check(task: Task): void {
    const taskId = task.taskId;
    const run = (chains.get(taskId) ?? Promise.resolve()).then(() => deliverNew(taskId));
    const tail = run.finally(() => {
      if (chains.get(taskId) === tail) chains.delete(taskId);
    });
    chains.set(taskId, tail);
  }

  async function deliverNew(taskId: string): Promise<void> {
    if (stopped) return;
    let entries: TranscriptEntry[];
    try {
      entries = (await hub.getTranscript(taskId)).entries;
    } catch (error) {
      options.log(`could not read the answers of ${taskId}: ${(error as Error).message}`);
      return;
    }
    const done = delivered.get(taskId) ?? new Set<string>();
    delivered.set(taskId, done);
    for (const entry of answersToDeliver(entries, done, since.get(taskId) ?? null)) {
      if (stopped) return;
      const task = findTask(hub.context, taskId);
      if (!task) return;
      try {
        await options.deliver(task, entry);
        done.add(answerId(entry));
      } catch (error) {
        options.log(`could not deliver step ${entry.step} of ${taskId}: ${(error as Error).message}`);
        return;
      }
    }
  }

  const unsubscribe = hub.on("change", ({ topic }) => {
    const context = hub.context;
    if (topic !== "context" || !context || stopped) return;
    const next = new Map<string, Task>();
    for (const task of [...context.activeTasks, ...context.recentCompleted]) next.set(task.taskId, task);
    for (const [taskId, task] of next) {
      // What the hub held when this channel arrived was delivered (or not) by whoever ran then.
      if (first) since.set(taskId, task.updatedAt);
      else if (answerCheckDue(previous.get(taskId), task)) check(task);
    }
    for (const taskId of delivered.keys()) if (!next.has(taskId)) delivered.delete(taskId);
    for (const taskId of since.keys()) if (!next.has(taskId)) since.delete(taskId);
    previous = next;
    first = false;
  });

  return {
    async settled() {
      while (chains.size > 0) await Promise.all(chains.values());
    },
    stop() {
      stopped = true;
      unsubscribe();
    },
  };
}

function findTask(context: Context | null, taskId: string): Task | undefined {
  return [...(context?.activeTasks ?? []), ...(context?.recentCompleted ?? [])].find((t) => t.taskId === taskId);
}
