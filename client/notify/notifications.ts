// What the notifiers (config `notify`) are told, decided from the hub client's events: which
// event a change is (a task finished, failed or waits for approval; a backend became limited),
// the one sentence about it from the shared phrasing, and each notifier's command line.

import type { NotifyEvent } from "../../shared/schemas.ts";
import type { HubEvents } from "../hub-client.ts";
import { backendSentence, taskSentence } from "../phrasing.ts";

export interface Notification {
  event: NotifyEvent;
  /** One sentence from client/phrasing.ts, e.g. "Your OCR task finished; the output is in …". */
  text: string;
  taskId: string;
  /** The task's status, or the backend's health status. */
  status: string;
  /**
   * Names this one occurrence, the same on every hub that sees it: hubs sharing one Redis run
   * a notification once, on the hub that claims this key first.
   */
  key: string;
}

/** A command run for some events; `args` may hold {text}, {taskId} and {status}. */
export interface NotifyCommand {
  command: string;
  args: string[];
  events: readonly NotifyEvent[];
  timeoutMs: number;
}

export interface NotifySettings {
  openclaw: { enabled: boolean; command: string; events: readonly NotifyEvent[]; timeoutMs: number };
  commands: NotifyCommand[];
}

/** Every command the settings ask for: OpenClaw's `system event --text … --mode now` first, when enabled. */
export function notifyCommands(settings: NotifySettings): NotifyCommand[] {
  const { openclaw } = settings;
  const openclawCommand: NotifyCommand = {
    command: openclaw.command,
    args: ["system", "event", "--text", "{text}", "--mode", "now"],
    events: openclaw.events,
    timeoutMs: openclaw.timeoutMs,
  };
  return [...(openclaw.enabled ? [openclawCommand] : []), ...settings.commands];
}

/** A task that arrived in `recentCompleted`: complete or failed. */
export function completedNotification({ task }: HubEvents["task-completed"], now: number): Notification {
  return {
    event: task.status === "failed" ? "failed" : "complete",
    text: taskSentence(task, null, now),
    taskId: task.taskId,
    status: task.status,
    key: `${task.taskId}:${task.status}:${task.completedAt ?? task.updatedAt}`,
  };
}

/** A task that has just started waiting for approval; null for any other progress. */
export function progressNotification({ task, previous }: HubEvents["task-progress"], now: number): Notification | null {
  if (task.status !== "pending-approval" || previous?.status === "pending-approval") return null;
  return {
    event: "pending-approval",
    text: taskSentence(task, null, now),
    taskId: task.taskId,
    status: task.status,
    key: `${task.taskId}:pending-approval:${task.currentStep}:${task.updatedAt}`,
  };
}

/** A backend that has just become `limited` (its subscription window used up); null otherwise. */
export function healthNotification(
  { backend, entry, previous }: HubEvents["health-changed"],
  now: number,
): Notification | null {
  // Compared as text: the `limited` status arrives with issue 15's health entries.
  const isLimited = (status: string | undefined) => status === "limited";
  if (!isLimited(entry.status) || isLimited(previous?.status)) return null;
  const until = (entry as { limitedUntil?: string | null }).limitedUntil ?? entry.lastPing ?? "";
  return {
    event: "limited",
    text: backendSentence(backend, entry, now),
    taskId: "",
    status: entry.status,
    key: `${backend}:limited:${until}`,
  };
}

/** The argv for one command: each placeholder replaced inside its argument, which stays one argument. */
export function commandArgs(command: NotifyCommand, notification: Notification): string[] {
  return command.args.map((arg) =>
    arg
      .replaceAll("{text}", notification.text)
      .replaceAll("{taskId}", notification.taskId)
      .replaceAll("{status}", notification.status),
  );
}
