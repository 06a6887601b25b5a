// The voice channel: a hub client keeping a live mirror, answering "what is happening now" from
// that mirror with no network round trip, and announcing milestones through a speaker.

import { type Context, type Health, type Task, waitingStep } from "../../shared/schemas.ts";
import type { HubClient, HubEvents } from "../hub-client.ts";
import { refusalReason, sendFollowUp, startTask } from "../intake.ts";
import { limitAnnouncement, restingSentence } from "../limit-phrasing.ts";
import {
  finishedWithAnswerSentence,
  followUpSentence,
  labelInSentence,
  notTakenSentence,
  startedSentence,
  summarySentence,
  taskSentence,
} from "../phrasing.ts";
import type { Speaker } from "./speaker.ts";
import { interpretUtterance, whichSentence } from "./utterance.ts";

/** How many tasks an answer names one by one before it says "and N more". */
export const TASKS_SPOKEN = 3;

// Waiting on the person first: that is what they can act on.
const SPOKEN_ORDER: Record<Task["status"], number> = {
  "pending-approval": 0,
  running: 1,
  queued: 2,
  complete: 3,
  failed: 3,
};

export interface VoiceAnswer {
  text: string;
  /** The task the answer is mainly about, recorded as the voice channel's last task. */
  taskId: string | null;
}

/**
 * What the voice channel says when asked, from the two documents and the time: the one active
 * task's sentence; or a summary and then each task (those waiting for approval first); or, with
 * nothing active, the last finished task. Any dead backend is added at the end.
 */
export function voiceAnswer(context: Context | null, health: Health | null, now: number): VoiceAnswer {
  if (!context) return { text: "I am not connected to the hub yet.", taskId: null };
  const sentences: string[] = [];
  let taskId: string | null = null;
  const active = [...context.activeTasks].sort((a, b) => SPOKEN_ORDER[a.status] - SPOKEN_ORDER[b.status]);
  if (active.length === 0) {
    sentences.push(summarySentence(context, now));
    const last = context.recentCompleted[0];
    if (last) {
      sentences.push(taskSentence(last, context, now));
      taskId = last.taskId;
    }
  } else {
    if (active.length > 1) sentences.push(summarySentence(context, now));
    for (const task of active.slice(0, TASKS_SPOKEN)) sentences.push(taskSentence(task, context, now));
    if (active.length > TASKS_SPOKEN) sentences.push(`And ${active.length - TASKS_SPOKEN} more`);
    taskId = active[0]?.taskId ?? null;
  }
  for (const [name, entry] of Object.entries(health?.backends ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (entry.status === "dead") sentences.push(deadSentence(name, entry.reason));
    if (entry.status === "limited") sentences.push(restingSentence(name, entry, now));
  }
  // Ends with . ! ? \u2026 (an ellipsis) or \u201D (a closing quote): escaped, as in client/phrasing.ts.
  return { text: sentences.map((s) => (/[.!?\u2026\u201D]$/.test(s) ? s : `${s}.`)).join(" "), taskId };
}

function deadSentence(name: string, reason: string | null): string {
  return `The ${name} backend is dead${reason ? `: ${reason}` : ""}`;
}

export interface Milestone {
  text: string;
  taskId: string | null;
}

/**
 * A task that just finished or failed: the gist of its last answer when it has one ("Your OCR task
 * finished: Twelve pages read. Two were blank."), otherwise its sentence ("… failed: timed out").
 */
export function completedMilestone(
  event: HubEvents["task-completed"],
  now: number,
  answer: string | null = null,
): Milestone {
  return { text: finishedWithAnswerSentence(event.task, answer, now), taskId: event.task.taskId };
}

/** A task that has just started waiting for approval; nothing for any other change. */
export function progressMilestone(event: HubEvents["task-progress"], now: number): Milestone | null {
  if (event.task.status !== "pending-approval" || event.previous?.status === "pending-approval") return null;
  return { text: taskSentence(event.task, null, now), taskId: event.task.taskId };
}

/**
 * A backend that has just gone dead (not one that was already dead or is newly configured), or
 * that has just begun or ended resting for a used-up limit ("Claude is resting until 14:05").
 */
export function healthMilestone(event: HubEvents["health-changed"], now?: number): Milestone | null {
  const limit = limitAnnouncement(event, now);
  if (limit) return { text: limit, taskId: null };
  if (event.entry.status !== "dead" || !event.previous || event.previous.status === "dead") return null;
  return {
    text: `The ${event.backend} backend went dead${event.entry.reason ? `: ${event.entry.reason}` : ""}`,
    taskId: null,
  };
}

export interface VoiceAdapterOptions {
  /** A hub client acting for the voice channel (not yet connected); the adapter connects it. */
  client: HubClient;
  speaker: Speaker;
  now?: () => number;
  /** The voice channel is marked active at most this often for the same task (each answer and announcement counts). */
  activeThrottleMs?: number;
  /** Told when marking the channel active fails; the answer is never held up by it. */
  onError?: (message: string) => void;
}

export interface VoiceAdapter {
  /** Connects and resolves once the mirror holds both documents. */
  start(): Promise<void>;
  /** The sentence about what is happening now, from the mirror alone. */
  answer(): string;
  /**
   * What to say back to a spoken sentence (what a phone's speech recognition heard): starts a
   * task, answers a status question, approves or rejects, or continues the last task. Also
   * handed to the speaker. Never rejects: a refusal is said too.
   */
  hear(text: string): Promise<string>;
  /** Every milestone announced so far, in order (what was handed to the speaker). */
  readonly announced: readonly string[];
  stop(): Promise<void>;
}

export const DEFAULT_ACTIVE_THROTTLE_MS = 30_000;

export function createVoiceAdapter(options: VoiceAdapterOptions): VoiceAdapter {
  const { client, speaker } = options;
  const now = options.now ?? Date.now;
  const throttleMs = options.activeThrottleMs ?? DEFAULT_ACTIVE_THROTTLE_MS;
  const announced: string[] = [];
  let lastMarked: { at: number; taskId: string | null } | null = null;
  // The snapshots at connection replay every task and backend as news; only later changes are milestones.
  let listening = false;
  const unsubscribes: (() => void)[] = [];

  // Fire and forget: the person hears the answer now; the hub learns of it when it can.
  function markActive(taskId: string | null): void {
    const at = now();
    if (lastMarked && lastMarked.taskId === taskId && at - lastMarked.at < throttleMs) return;
    lastMarked = { at, taskId };
    client.setChannelActive("voice", taskId ?? undefined).catch((error: Error) => {
      lastMarked = null;
      options.onError?.(`could not mark the voice channel active: ${error.message}`);
    });
  }

  /** The task the voice channel worked on last: here first, then as the hub remembers it. */
  let lastTaskId: string | null = null;

  function findTask(taskId: string): Task | undefined {
    const context = client.context;
    return [...(context?.activeTasks ?? []), ...(context?.recentCompleted ?? [])].find((t) => t.taskId === taskId);
  }

  /** Whether the hub has a workspace so named (asked when a start names one; a failure is a no). */
  async function isWorkspace(name: string): Promise<boolean> {
    try {
      return (await client.getWorkspaces()).workspaces.some((workspace) => workspace.name === name);
    } catch {
      return false;
    }
  }

  async function respond(heard: string): Promise<string> {
    const last = lastTaskId ?? client.context?.channelHistory.voice?.lastTaskId ?? null;
    const utterance = interpretUtterance(heard, client.context, last);
    const said = (sentence: string) => (/[.!?\u2026]$/.test(sentence) ? sentence : `${sentence}.`);
    switch (utterance.kind) {
      case "empty":
        return "I did not catch that. Say start and a task, status, approve, or reject.";
      case "start": {
        if (!utterance.text) return "What should the task do? Say start, then the task.";
        try {
          // "… in workspace site" names a workspace only when the hub has one so named; otherwise
          // those words are part of the task.
          const named =
            utterance.workspace && (await isWorkspace(utterance.workspace.name)) ? utterance.workspace : null;
          if (named && !named.text)
            return `What should the task do in workspace ${named.name}? Say start, then the task.`;
          const text = named ? named.text : utterance.text;
          const { taskId } = await startTask(client, text, "voice", named ? { workspace: named.name } : {});
          lastTaskId = taskId;
          const started = startedSentence({ description: text, workspace: named?.name });
          return `${said(started)} I will tell you when it is done.`;
        } catch (error) {
          return said(notTakenSentence("start", refusalReason(error)));
        }
      }
      case "status": {
        if (!client.context) return "I am not connected to the hub yet.";
        const task = utterance.taskId ? findTask(utterance.taskId) : undefined;
        if (!task) return answerNow();
        lastTaskId = task.taskId;
        markActive(task.taskId);
        return said(taskSentence(task, client.context, now()));
      }
      case "nothing-waits":
        return "Nothing is waiting for your approval.";
      case "which":
        return whichSentence(
          utterance.decision,
          utterance.taskIds.map((taskId) => findTask(taskId) ?? { description: taskId }),
        );
      case "decide": {
        const task = findTask(utterance.taskId);
        const named = task ?? { description: utterance.taskId };
        // Bound to what the mirror shows waiting (what was announced): that step, that tool call.
        const waiting = task?.awaitingApproval;
        const step = task ? waitingStep(task) : undefined;
        const toolCall = waiting?.kind === "tool" && waiting.id ? waiting : null;
        const approvalId = toolCall?.id;
        try {
          if (utterance.decision === "approve") await client.approve(utterance.taskId, step, approvalId);
          else await client.reject(utterance.taskId, "rejected by voice", step, approvalId);
          lastTaskId = utterance.taskId;
          const lowered = labelInSentence(named);
          if (toolCall) {
            const what = toolCall.summary || toolCall.title;
            return utterance.decision === "approve"
              ? `Approved ${what}; ${lowered} goes on.`
              : `Rejected ${what}; ${lowered} goes on without it.`;
          }
          return `${utterance.decision === "approve" ? "Approved" : "Rejected"}: ${lowered}.`;
        } catch (error) {
          return said(`Could not ${utterance.decision} ${labelInSentence(named)}: ${refusalReason(error)}`);
        }
      }
      case "follow-up": {
        try {
          const { step } = await sendFollowUp(client, utterance.taskId, utterance.text, "voice");
          lastTaskId = utterance.taskId;
          return said(followUpSentence(findTask(utterance.taskId) ?? { description: utterance.taskId }, step));
        } catch (error) {
          return said(notTakenSentence("follow-up", refusalReason(error)));
        }
      }
    }
  }

  function answerNow(): string {
    const { text, taskId } = voiceAnswer(client.context, client.health, now());
    if (client.context) markActive(taskId);
    return text;
  }

  /** Milestones are announced in the order they happened, even when one waits for its answer. */
  let announcing: Promise<void> = Promise.resolve();
  function inOrder(milestone: () => Promise<Milestone | null>): void {
    if (!listening) return;
    announcing = announcing.then(async () => announce(await milestone().catch(() => null)));
  }

  /** The last answer a finished task gave (its transcript), or null when it has none or it cannot be read. */
  async function lastAnswer(task: Task): Promise<string | null> {
    if (task.status !== "complete") return null;
    try {
      const { entries } = await client.getTranscript(task.taskId);
      return entries.at(-1)?.answer ?? null;
    } catch (error) {
      options.onError?.(`could not read the answer of ${task.taskId}: ${(error as Error).message}`);
      return null;
    }
  }

  function announce(milestone: Milestone | null): void {
    if (!listening || !milestone) return;
    announced.push(milestone.text);
    void speaker.say(milestone.text);
    markActive(milestone.taskId);
  }

  return {
    async start() {
      unsubscribes.push(
        client.on("task-completed", (event) =>
          inOrder(async () => completedMilestone(event, now(), await lastAnswer(event.task))),
        ),
        client.on("task-progress", (event) => inOrder(async () => progressMilestone(event, now()))),
        client.on("health-changed", (event) => inOrder(async () => healthMilestone(event, now()))),
      );
      await client.connect();
      listening = true;
    },
    answer: answerNow,
    async hear(text) {
      const reply = await respond(text);
      void speaker.say(reply);
      return reply;
    },
    get announced() {
      return announced;
    },
    async stop() {
      listening = false;
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      client.close();
      await speaker.close();
    },
  };
}
