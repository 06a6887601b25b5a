// A task is one conversation: which conversation a step continues, what it is told, and the
// history the hub sends a backend that keeps none itself. Pure decisions; run-step.ts acts.

import type { Conversation, TranscriptEntry } from "../../shared/schemas.ts";
import type { ChatTurn } from "../backends/backend.ts";
import { truncate } from "../task-transitions.ts";

/** How much of each earlier answer a new conversation's summary quotes. */
export const SUMMARY_ANSWER_CHARS = 600;
/** The most a summary of earlier answers takes. */
export const SUMMARY_CHARS = 6_000;
/** Earlier turns sent with each turn of a conversation the hub keeps (Ollama): messages, and characters. */
export const HISTORY_MESSAGES = 40;
export const HISTORY_CHARS = 60_000;

export type Turn =
  /** The step continues the task's conversation on this backend. */
  | { mode: "continue"; conversation: Conversation }
  /** A new conversation: the task's first, or one on another backend (or after a lost one). */
  | { mode: "new"; summarised: TranscriptEntry[] };

/**
 * The task's conversation goes on while the step runs on the backend that holds it; otherwise a
 * new one starts, told the answers given so far (a retry on another backend, a reopened task
 * whose backend is gone).
 */
export function planTurn(input: {
  backend: string;
  conversation: Conversation | null;
  earlier: TranscriptEntry[];
}): Turn {
  if (input.conversation && input.conversation.backend === input.backend) {
    return { mode: "continue", conversation: input.conversation };
  }
  return { mode: "new", summarised: latestAnswers(input.earlier) };
}

const latestAnswers = (entries: TranscriptEntry[]): TranscriptEntry[] => {
  const byStep = new Map<number, TranscriptEntry>();
  for (const entry of entries) byStep.set(entry.step, entry);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
};

export interface TurnPromptInput {
  description: string;
  /** Every step's title, in plan order. */
  titles: string[];
  /** The step to run: 0-based. */
  index: number;
  prompt: string;
  /** Set for a follow-up: its text is the turn as it stands. */
  followUp: boolean;
  turn: Turn;
}

/**
 * What the backend is told. A new conversation hears the task's description and plan (and the
 * earlier answers, when there are some) before the step itself; a continued one hears only the
 * step, as the conversation already holds the rest. A one-step task whose prompt is its
 * description is sent as it is.
 */
export function turnPrompt(input: TurnPromptInput): string {
  const total = input.titles.length;
  const title = input.titles[input.index] ?? "";
  const ask = input.followUp
    ? input.prompt
    : total > 1
      ? `Step ${input.index + 1} of ${total}: ${title}\n\n${input.prompt}`
      : input.prompt;
  if (input.turn.mode === "continue") return ask;
  const { summarised } = input.turn;
  if (summarised.length === 0 && total === 1 && input.prompt === input.description) return input.prompt;
  const plan = input.titles.map((t, i) => `${i + 1}. ${t}`).join("\n");
  const parts = [`Task: ${input.description}`, `Plan:\n${plan}`];
  if (summarised.length > 0) parts.push(summary(summarised));
  parts.push(ask);
  return parts.join("\n\n");
}

/** The earlier answers, short: what a new conversation is told of the old one. */
export function summary(entries: TranscriptEntry[]): string {
  const backends = [...new Set(entries.map((e) => e.backend))].join(", ");
  const lines = entries.map(
    (e) => `Step ${e.step} (${e.title}): ${truncate(e.answer.trim().replace(/\s+/g, " "), SUMMARY_ANSWER_CHARS)}`,
  );
  const text = `Earlier answers in this task (from ${backends}; this is a new conversation):\n${lines.join("\n")}`;
  return truncate(text, SUMMARY_CHARS);
}

/** What `lastUpdate` says when a step starts a new conversation after earlier answers. */
export function newConversationNote(turn: Turn, backend: string): string | null {
  if (turn.mode !== "new" || turn.summarised.length === 0) return null;
  const n = turn.summarised.length;
  return `a new conversation on ${backend}, with a summary of ${n} earlier answer${n === 1 ? "" : "s"}`;
}

/**
 * The turns of a conversation the hub keeps, for its next turn: what was sent and answered in
 * it, oldest first, the oldest dropped beyond HISTORY_MESSAGES or HISTORY_CHARS.
 */
export function conversationHistory(entries: TranscriptEntry[], conversation: Conversation): ChatTurn[] {
  const turns = entries
    .filter((e) => e.conversation?.backend === conversation.backend && e.conversation.id === conversation.id)
    .flatMap((e): ChatTurn[] => [
      { role: "user", content: e.prompt },
      { role: "assistant", content: e.answer },
    ]);
  let kept = turns.slice(-HISTORY_MESSAGES);
  let chars = kept.reduce((n, t) => n + t.content.length, 0);
  while (kept.length > 0 && chars > HISTORY_CHARS) {
    chars -= (kept[0] as ChatTurn).content.length + (kept[1]?.content.length ?? 0);
    kept = kept.slice(2);
  }
  return kept;
}
