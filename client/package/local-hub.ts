// Inside the hub process, switchboard/session and switchboard/warmup act on the hub's own state
// instead of connecting to itself: the hub's entry point registers its task context and warm
// standby here (on a global symbol, so any copy of the package, bundled or not, finds them).
import type { BackendHealth, Context, Health, Task, WarmSession } from "../../shared/schemas.ts";

export interface ChannelState {
  lastActive: string | null;
  lastTaskId: string | null;
  task: Task | null;
}

/** What the package needs of the hub's task context and warm standby (server/task-context.ts, server/warm-standby). */
export interface LocalHub {
  taskContext: {
    getContext(): Context;
    getActiveTask(taskId: string): Task | null;
    addTask(task: unknown): Promise<Task>;
    updateTask(taskId: string, updates: unknown): Promise<Task>;
    completeTask(taskId: string, result?: unknown): Promise<Task>;
    getChannelState(channel: string): ChannelState;
    setChannelActive(channel: string, input?: unknown): Promise<ChannelState>;
  };
  warmStandby: {
    getHealth(): Health;
    getHealth(backend: string): BackendHealth;
    pingNow(backend: string): Promise<BackendHealth>;
    preWarm(backend: string): WarmSession;
    pausePinging(): Promise<Health>;
    resumePinging(): Promise<Health>;
  };
}

const LOCAL_HUB = Symbol.for("switchboard.hub");

/** Called by the hub's entry point once it runs. */
export function registerLocalHub(hub: LocalHub): void {
  (globalThis as Record<symbol, unknown>)[LOCAL_HUB] = hub;
}

/** The hub this process runs, if it runs one. */
export function localHub(): LocalHub | null {
  return ((globalThis as Record<symbol, unknown>)[LOCAL_HUB] as LocalHub | undefined) ?? null;
}
