// The events a channel hears, derived from two states of a mirrored document: which tasks
// progressed or finished, which backends' health changed. A pure function of (before, after),
// so a snapshot after a reconnect announces only what really changed while away.
import type { BackendHealth, Context, Health, Task } from "../shared/schemas.ts";
import { jsonEqual } from "./json-patch.ts";

export interface DocumentEvents {
  /** A task was added or changed while active. */
  "task-progress": { task: Task; previous: Task | null };
  /** A task arrived in `recentCompleted` (complete or failed). */
  "task-completed": { task: Task };
  /** One backend's health entry changed. */
  "health-changed": { backend: string; entry: BackendHealth; previous: BackendHealth | null };
}

export type DocumentEvent = {
  [E in keyof DocumentEvents]: { event: E; payload: DocumentEvents[E] };
}[keyof DocumentEvents];

/**
 * Task events from the context before and after a change. With no `previous` (the first
 * snapshot) every active task is new progress, but the finished ones are history, not news.
 */
export function taskEvents(previous: Context | undefined, next: Context): DocumentEvent[] {
  const events: DocumentEvent[] = [];
  const before = new Map<string, Task>();
  for (const task of previous?.activeTasks ?? []) before.set(task.taskId, task);
  for (const task of next.activeTasks) {
    const old = before.get(task.taskId) ?? null;
    if (!jsonEqual(old, task)) events.push({ event: "task-progress", payload: { task, previous: old } });
  }
  if (previous) {
    const finishedBefore = new Set(previous.recentCompleted.map((t) => t.taskId));
    for (const task of next.recentCompleted) {
      if (!finishedBefore.has(task.taskId)) events.push({ event: "task-completed", payload: { task } });
    }
  }
  return events;
}

/** One event per backend whose health entry differs between the two documents. */
export function healthEvents(previous: Health | undefined, next: Health): DocumentEvent[] {
  const events: DocumentEvent[] = [];
  for (const [backend, entry] of Object.entries(next.backends)) {
    const old = previous?.backends[backend] ?? null;
    if (!jsonEqual(old, entry)) events.push({ event: "health-changed", payload: { backend, entry, previous: old } });
  }
  return events;
}
