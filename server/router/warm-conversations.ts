// Conversations kept warm: the process that answered a task's last turn (Claude in stream-json
// mode) stays alive for a while, so the task's next step or follow-up is written to it at once
// instead of starting a CLI that loads the conversation again. Bounded in time and in number.

import type { Clock, TimerHandle } from "../../shared/clock.ts";
import type { Conversation } from "../../shared/schemas.ts";
import type { WarmSession } from "../backends/backend.ts";

export interface WarmConversationsOptions {
  clock: Clock;
  /** How long a process waits for the conversation's next turn before it is ended. */
  keepMs: number;
  /** Processes kept at once; the one unused longest is ended first. */
  max: number;
}

export type WarmConversations = ReturnType<typeof createWarmConversations>;

export function createWarmConversations(options: WarmConversationsOptions) {
  interface Kept {
    conversation: Conversation;
    session: WarmSession;
    timer: TimerHandle;
  }
  // Insertion order is recency: the first entry is the one unused longest.
  const kept = new Map<string, Kept>();

  function end(taskId: string): void {
    const entry = kept.get(taskId);
    if (!entry) return;
    kept.delete(taskId);
    options.clock.clearTimeout(entry.timer);
    entry.session.kill();
  }

  /** Keeps a task's process for its conversation's next turn (ending any it had before). */
  function keep(taskId: string, conversation: Conversation, session: WarmSession): void {
    end(taskId);
    const timer = options.clock.setTimeout(() => end(taskId), options.keepMs);
    timer.unref?.();
    kept.set(taskId, { conversation, session, timer });
    void session.exited.then(() => {
      if (kept.get(taskId)?.session === session) end(taskId);
    });
    while (kept.size > options.max) end(kept.keys().next().value as string);
  }

  /** Hands over the process holding this conversation, if one is still alive; it is no longer kept. */
  function take(taskId: string, conversation: Conversation): WarmSession | null {
    const entry = kept.get(taskId);
    if (!entry) return null;
    if (entry.conversation.backend !== conversation.backend || entry.conversation.id !== conversation.id) {
      end(taskId);
      return null;
    }
    kept.delete(taskId);
    options.clock.clearTimeout(entry.timer);
    return entry.session;
  }

  /** Ends the processes of tasks not in `keepFor` (finished tasks that left recentCompleted). */
  function retain(keepFor: (taskId: string) => boolean): void {
    for (const taskId of [...kept.keys()]) if (!keepFor(taskId)) end(taskId);
  }

  function stop(): void {
    for (const taskId of [...kept.keys()]) end(taskId);
  }

  return { keep, take, end, retain, stop, has: (taskId: string) => kept.has(taskId) };
}
