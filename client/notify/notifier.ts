// Runs the notifiers config.json asks for (`notify.openclaw`, `notify.commands`) on task and
// backend events, as a subscriber of the hub like any channel. Each run goes through execa with
// no shell (the sentence is one argument), in its own process group killed at the timeout; a
// missing command or a failing one is logged once (until it works again) and never holds up a
// task: runs are not awaited by anything the hub does.
import { execa } from "execa";
import type { HubClient } from "../hub-client.ts";
import { createNodeHubClient } from "../node-hub-client.ts";
import {
  commandArgs,
  completedNotification,
  healthNotification,
  type Notification,
  type NotifyCommand,
  type NotifySettings,
  notifyCommands,
  progressNotification,
} from "./notifications.ts";

export interface NotifierOptions {
  hubUrl: string;
  token: string | null;
  settings: NotifySettings;
  log: (message: string) => void;
  now?: () => number;
  /**
   * Several hubs on one Redis: true when this hub is the one to run a notification (the first to
   * claim its key); without it every notification runs here.
   */
  claim?: (key: string) => Promise<boolean>;
}

export interface Notifier {
  /** Resolves when every run started so far has ended (tests wait on it). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Outcome of one run: null when it worked, else what went wrong in words. */
export async function runNotifyCommand(command: NotifyCommand, args: string[]): Promise<string | null> {
  const child = execa(command.command, args, {
    detached: true,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    reject: false,
    cleanup: true,
  });
  const pid = child.pid;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pid);
  }, command.timeoutMs);
  try {
    const result = await child;
    if (timedOut) return `${command.command} did not finish within ${command.timeoutMs} ms; it was stopped`;
    if ((result as { code?: string }).code === "ENOENT") {
      return `${command.command} was not found on PATH; install it or set its command in config.json notify`;
    }
    if (result.exitCode !== 0) {
      const stderr = String(result.stderr ?? "")
        .trim()
        .slice(0, 300);
      const why = result.signal ? `was killed by ${result.signal}` : `exited with ${result.exitCode}`;
      return `${command.command} ${why}${stderr ? `: ${stderr}` : ""}`;
    }
    return null;
  } finally {
    clearTimeout(timer);
    killGroup(pid);
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** Subscribes to the hub and runs the configured commands; null when no notifier is configured. */
export async function startNotifier(options: NotifierOptions): Promise<Notifier | null> {
  const commands = notifyCommands(options.settings);
  if (commands.length === 0) return null;
  const now = options.now ?? Date.now;
  const client: HubClient = createNodeHubClient({ url: options.hubUrl, token: options.token });
  const running = new Set<Promise<void>>();
  /** The last failure logged per command, so a notifier that keeps failing the same way is logged once. */
  const failing = new Map<NotifyCommand, string>();

  function notify(notification: Notification | null): void {
    if (!notification) return;
    if (!options.claim) {
      run(notification);
      return;
    }
    options.claim(notification.key).then(
      (mine) => {
        if (mine) run(notification);
      },
      (error: Error) => options.log(`notify: could not claim a notification (${error.message}); not run here`),
    );
  }

  function run(notification: Notification): void {
    for (const command of commands) {
      if (!command.events.includes(notification.event)) continue;
      const run = runNotifyCommand(command, commandArgs(command, notification))
        .catch((error: unknown) => (error as Error).message ?? String(error))
        .then((problem) => {
          if (problem === null) {
            if (failing.delete(command)) options.log(`notify: ${command.command} works again`);
          } else if (failing.get(command) !== problem) {
            failing.set(command, problem);
            options.log(`notify: ${problem} (further failures like this one are not logged)`);
          }
        })
        .finally(() => running.delete(run));
      running.add(run);
    }
  }

  client.on("task-completed", (event) => notify(completedNotification(event, now())));
  client.on("task-progress", (event) => notify(progressNotification(event, now())));
  client.on("health-changed", (event) => notify(healthNotification(event, now())));
  await client.connect();
  return {
    async settled() {
      while (running.size > 0) await Promise.all(running);
    },
    async close() {
      client.close();
      await Promise.all(running);
    },
  };
}
