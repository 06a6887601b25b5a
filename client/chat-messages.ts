// One chat message per task per destination, kept in step with the hub: created once, edited in
// place at most once per interval (the latest state wins), paused while the chat API says
// "retry after", and never duplicated when a reconnect delivers a fresh snapshot. Shared by the
// Telegram and Slack adapters; each supplies only how to send and edit in its own API.
import { type Clock, systemClock, type TimerHandle } from "../shared/clock.ts";
import type { Context, Task } from "../shared/schemas.ts";

/** Where an adapter reports what it skipped or could not do (the hub's logger fits). */
export interface AdapterLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What a task's message may name besides the task: where the dashboard is, for a text too long to show whole. */
export interface RenderOptions {
  dashboardUrl?: string | null;
}

/** How a chat channel draws a task's message, from the task, the time and the context. */
export type TaskMessageRenderer<View> = (
  task: Task,
  now: Date,
  context?: Context | null,
  options?: RenderOptions,
) => View;

/** What starts a chat channel (Telegram, Slack): the hub, the bot's token, its settings and a log. */
export interface ChatChannelOptions<Settings> {
  hubUrl: string;
  hubToken: string | null;
  token: string;
  settings: Settings;
  log: AdapterLog;
}

/** A chat API said "too many requests": nothing more goes to that destination for `retryAfterMs`. */
export class RateLimitedError extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = `rate limited; retry after ${retryAfterMs} ms`) {
    super(message);
    this.name = "RateLimitedError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** How one chat API posts and edits a message. `Ref` is whatever identifies a posted message. */
export interface ChatTransport<View, Ref> {
  send(destination: string, view: View): Promise<Ref>;
  edit(destination: string, ref: Ref, view: View): Promise<void>;
}

export interface ChatMessagesOptions<View, Ref> {
  destinations: string[];
  transport: ChatTransport<View, Ref>;
  /** The message for a task as it stands now (active or finished), in its context (queue order). */
  render: (task: Task, context: Context) => View;
  /** Timers and the time, injected so tests drive throttling by hand (a ManualClock). */
  timers?: Clock;
  /** The least time between two writes to one message (Telegram and Slack both ask ~1 s). */
  minIntervalMs?: number;
  log?: (message: string) => void;
}

interface Slot<View, Ref> {
  destination: string;
  ref: Ref | null;
  /** What the chat shows now (null before the message exists). */
  shown: View | null;
  /** The latest state not yet written; a newer one replaces it. */
  pending: View | null;
  lastWriteAt: number;
  inFlight: boolean;
  timer: TimerHandle | null;
}

export interface ChatMessages<Ref> {
  /** Brings every message up to date with a context (call on every snapshot and patch). */
  sync(context: Context): void;
  /** The posted message of a task in a destination, if any. */
  refOf(taskId: string, destination: string): Ref | null;
  /** The task whose message in `destination` is `ref` (a button press names only its message). */
  taskAt(destination: string, ref: Ref): string | null;
  /** Resolves once no write is in flight (timers may still be waiting). */
  settled(): Promise<void>;
  close(): void;
}

export function createChatMessages<View, Ref>(options: ChatMessagesOptions<View, Ref>): ChatMessages<Ref> {
  const timers = options.timers ?? systemClock;
  const minInterval = options.minIntervalMs ?? 1000;
  const log = options.log ?? (() => undefined);
  const slots = new Map<string, Slot<View, Ref>>();
  /** Per destination: no write before this instant (a 429's retry-after). */
  const blockedUntil = new Map<string, number>();
  let seenFirstContext = false;
  let finishedSeen = new Set<string>();
  let closed = false;
  let settledWaiters: (() => void)[] = [];

  const key = (taskId: string, destination: string) => `${destination}\u0000${taskId}`;

  function sync(context: Context): void {
    if (closed) return;
    for (const task of context.activeTasks) show(task, context);
    const finishedNow = new Set<string>();
    for (const task of context.recentCompleted) {
      finishedNow.add(task.taskId);
      const known = options.destinations.some((d) => slots.has(key(task.taskId, d)));
      // A task we posted gets its final edit. One that finished out of our sight (while the hub
      // connection was down, or between two patches) is posted once; the history present at
      // start-up is not, or every restart would repost the last ten tasks.
      if (known || (seenFirstContext && !finishedSeen.has(task.taskId))) show(task, context);
    }
    // Tasks that left recentCompleted are done changing: forget their messages.
    for (const [slotKey, slot] of slots) {
      const taskId = slotKey.slice(slot.destination.length + 1);
      const present = finishedNow.has(taskId) || context.activeTasks.some((t) => t.taskId === taskId);
      if (!present && !slot.inFlight && slot.pending === null) {
        if (slot.timer !== null) timers.clearTimeout(slot.timer);
        slots.delete(slotKey);
      }
    }
    finishedSeen = finishedNow;
    seenFirstContext = true;
  }

  function show(task: Task, context: Context): void {
    const view = options.render(task, context);
    for (const destination of options.destinations) {
      const slotKey = key(task.taskId, destination);
      let slot = slots.get(slotKey);
      if (!slot) {
        slot = {
          destination,
          ref: null,
          shown: null,
          pending: null,
          lastWriteAt: Number.NEGATIVE_INFINITY,
          inFlight: false,
          timer: null,
        };
        slots.set(slotKey, slot);
      }
      // Unchanged (a snapshot after reconnect, a patch that moved nothing visible): no write.
      if (sameView(slot.pending ?? slot.shown, view)) continue;
      slot.pending = sameView(slot.shown, view) ? null : view;
      schedule(slot);
    }
  }

  function schedule(slot: Slot<View, Ref>): void {
    if (closed || slot.inFlight || slot.timer !== null || slot.pending === null) return;
    const now = timers.now();
    const due = Math.max(slot.lastWriteAt + minInterval, blockedUntil.get(slot.destination) ?? 0);
    if (due <= now) {
      void write(slot);
      return;
    }
    slot.timer = timers.setTimeout(() => {
      slot.timer = null;
      schedule(slot);
    }, due - now);
  }

  async function write(slot: Slot<View, Ref>): Promise<void> {
    const view = slot.pending as View;
    slot.pending = null;
    slot.inFlight = true;
    slot.lastWriteAt = timers.now();
    try {
      if (slot.ref === null) slot.ref = await options.transport.send(slot.destination, view);
      else await options.transport.edit(slot.destination, slot.ref, view);
      slot.shown = view;
    } catch (error) {
      if (error instanceof RateLimitedError) {
        const until = timers.now() + error.retryAfterMs;
        blockedUntil.set(slot.destination, Math.max(blockedUntil.get(slot.destination) ?? 0, until));
        log(`${slot.destination}: rate limited, waiting ${error.retryAfterMs} ms before the next write`);
        // Retry with the newest state: a change that arrived meanwhile supersedes this one.
        slot.pending ??= view;
      } else {
        // Not retried on its own: the next change brings the message up to date.
        log(`${slot.destination}: could not ${slot.ref === null ? "post" : "edit"} a task message: ${describe(error)}`);
      }
    } finally {
      slot.inFlight = false;
    }
    schedule(slot);
    if (!anyInFlight()) {
      const waiters = settledWaiters;
      settledWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  function anyInFlight(): boolean {
    for (const slot of slots.values()) if (slot.inFlight) return true;
    return false;
  }

  return {
    sync,
    refOf: (taskId, destination) => slots.get(key(taskId, destination))?.ref ?? null,
    taskAt(destination, ref) {
      for (const [slotKey, slot] of slots) {
        if (slot.destination === destination && sameView(slot.ref, ref)) return slotKey.slice(destination.length + 1);
      }
      return null;
    },
    settled: () => (anyInFlight() ? new Promise((resolve) => settledWaiters.push(resolve)) : Promise.resolve()),
    close() {
      closed = true;
      for (const slot of slots.values()) if (slot.timer !== null) timers.clearTimeout(slot.timer);
    },
  };
}

function sameView(a: unknown, b: unknown): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
