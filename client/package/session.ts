// switchboard/session: the seed's seven session functions for a router in another process (or in
// the hub's own). Every one returns a Promise; reads come from the live mirror, writes resolve
// once the hub has them on disk. The REST call each one makes is listed in README.md.
import type { Channel, Context, Task } from "../../shared/schemas.ts";
import { hubConnection } from "./hub-connection.ts";
import { type ChannelState, localHub } from "./local-hub.ts";

export { HubError, HubUnreachableError } from "./hub-connection.ts";
export type { Channel, ChannelState, Context, Task };

const path = (value: string) => encodeURIComponent(value);
const CHANNELS: readonly string[] = ["voice", "telegram", "slack", "dashboard", "cli"];

/** The whole active context (GET /api/context, from the live mirror). */
export async function getContext(): Promise<Context> {
  const local = localHub();
  if (local) return local.taskContext.getContext();
  return hubConnection().read(({ context }) => structuredClone(context));
}

/** One task, active or recently finished, or null (GET /api/context/tasks/:taskId, from the mirror). */
export async function getActiveTask(taskId: string): Promise<Task | null> {
  const local = localHub();
  if (local) return local.taskContext.getActiveTask(taskId);
  return hubConnection().read(({ context }) => {
    const task = [...context.activeTasks, ...context.recentCompleted].find((t) => t.taskId === taskId);
    return task ? structuredClone(task) : null;
  });
}

/** Registers a task (POST /api/context/tasks). */
export async function addTask(task: Record<string, unknown>): Promise<Task> {
  const local = localHub();
  if (local) return local.taskContext.addTask(task);
  return hubConnection().write<Task>("POST", "/api/context/tasks", task);
}

/** Changes an active task; status "complete" or "failed" finishes it (PATCH /api/context/tasks/:taskId). */
export async function updateTask(taskId: string, updates: Record<string, unknown>): Promise<Task> {
  const local = localHub();
  if (local) return local.taskContext.updateTask(taskId, updates);
  return hubConnection().write<Task>("PATCH", `/api/context/tasks/${path(taskId)}`, updates);
}

/**
 * Finishes a task (POST /api/context/tasks/:taskId/complete). `result` is any JSON value, kept as
 * the task's result; an object of only `status`, `result`, `error`, `outputPath` is read as those.
 */
export async function completeTask(taskId: string, result?: unknown): Promise<Task> {
  const local = localHub();
  if (local) return local.taskContext.completeTask(taskId, result);
  return hubConnection().write<Task>("POST", `/api/context/tasks/${path(taskId)}/complete`, result ?? {});
}

/** When a channel was last active and its last task (GET /api/channels/:channel, from the mirror). */
export async function getChannelState(channel: Channel | string): Promise<ChannelState> {
  const local = localHub();
  if (local) return local.taskContext.getChannelState(channel);
  // An unknown channel gets the hub's own refusal.
  if (!CHANNELS.includes(channel)) return hubConnection().get<ChannelState>(`/api/channels/${path(channel)}`);
  return hubConnection().read(({ context }) => {
    const entry = context.channelHistory[channel as Channel];
    if (!entry) return { lastActive: null, lastTaskId: null, task: null };
    const task = entry.lastTaskId
      ? [...context.activeTasks, ...context.recentCompleted].find((t) => t.taskId === entry.lastTaskId)
      : undefined;
    return { lastActive: entry.lastActive, lastTaskId: entry.lastTaskId, task: task ? structuredClone(task) : null };
  });
}

/** Marks a channel active now, optionally with the task it acted on (POST /api/channels/:channel/active). */
export async function setChannelActive(channel: Channel | string, taskId?: string | null): Promise<ChannelState> {
  const body = taskId ? { taskId } : {};
  const local = localHub();
  if (local) return local.taskContext.setChannelActive(channel, body);
  return hubConnection().write<ChannelState>("POST", `/api/channels/${path(channel)}/active`, body);
}
