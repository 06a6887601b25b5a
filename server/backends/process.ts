// Backend CLIs as killable process groups: every child leads its own group (detached), so a
// timeout, an abort or the hub's exit kills it together with everything it started.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import type { Clock } from "../../shared/clock.ts";
import { BackendFailure, type WarmSession } from "./backend.ts";
import { backendEnvironment } from "./environment.ts";

/** How much of a child's stderr is kept for error messages. */
const STDERR_KEEP = 4_000;
/**
 * The longest stdout line read from a CLI. Its events are single JSON lines far below this; a
 * child that writes without newlines would otherwise grow the hub's memory until V8's string
 * limit throws (an uncaught RangeError that ended the hub).
 */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
  /** The command was not found (ENOENT) or could not be started. */
  startError: string | null;
}

export interface ProcessGroup {
  readonly pid: number | null;
  /** Resolves once the process is running; rejects with "not installed" when it cannot start. */
  readonly spawned: Promise<void>;
  readonly stdin: Writable;
  /** Stdout, one line at a time: one reader, which may stop and go on later (see readJsonLines). */
  readonly lines: AsyncIterable<string>;
  /** The last few thousand characters of stderr. */
  stderr(): string;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  readonly hasExited: boolean;
  /** SIGKILLs the whole process group; a no-op once the group is gone. */
  kill(): void;
}

// Process-wide because exit is process-wide: whatever a hub leaves running when its process
// ends (a crash, an uncaught error) is killed on the way out, so no CLI outlives the hub.
const liveGroups = new Set<number>();
let exitHookInstalled = false;

export function killProcessGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone (ESRCH): nothing to kill.
  }
}

export function killAllProcessGroups(): void {
  for (const pid of liveGroups) killProcessGroup(pid);
  liveGroups.clear();
}

/** Starts `command args` as the leader of a new process group, with stdin, stdout and stderr piped. */
export function spawnProcessGroup(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string },
): ProcessGroup {
  if (!exitHookInstalled) {
    process.once("exit", killAllProcessGroups);
    exitHookInstalled = true;
  }
  // node:child_process directly: the hub needs nothing of execa here (no buffering, no
  // rejection, piped streams), and leaving it out of the hub's bundle shortens every start.
  const child = spawn(command, args, {
    detached: true,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    // Exactly the environment given: nothing of the hub's own leaks in through extension.
    env: options.env ?? backendEnvironment({ hubEnv: process.env }),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const pid = child.pid ?? null;
  if (pid !== null) liveGroups.add(pid);
  let stderrText = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderrText = (stderrText + chunk).slice(-STDERR_KEEP);
  });
  // A child that dies before reading its stdin must not crash the hub with EPIPE.
  child.stdin.on("error", () => {});
  let hasExited = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    // A child that could not start emits "error" and may never emit "close".
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      hasExited = true;
      resolve({ exitCode: null, signal: null, startError: error.code ?? error.message });
    });
    child.once("close", (exitCode, signal) => {
      hasExited = true;
      resolve({ exitCode, signal, startError: null });
    });
  }).finally(() => {
    // The leader is gone; anything it left in its group goes with it.
    if (pid !== null) {
      killProcessGroup(pid);
      liveGroups.delete(pid);
    }
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        // A working folder removed since start-up fails the spawn with ENOENT too: say which.
        options.cwd && !existsSync(options.cwd)
          ? new BackendFailure("cannot start", `the working folder ${options.cwd} no longer exists`)
          : error.code === "ENOENT"
            ? new BackendFailure("not installed", `${command} was not found on PATH`)
            : new BackendFailure("cannot start", `${command}: ${error.message}`),
      ),
    );
  });
  spawned.catch(() => {});
  const lines = boundedLines(child.stdout, command);
  return {
    pid,
    spawned,
    stdin: child.stdin,
    lines,
    stderr: () => stderrText,
    exited,
    get hasExited() {
      return hasExited;
    },
    kill() {
      if (pid !== null && liveGroups.has(pid)) killProcessGroup(pid);
    },
  };
}

/**
 * Stdout split into lines, like readline, but a line longer than MAX_LINE_CHARS fails the reader
 * with a clear reason; the stream is then destroyed, so the child blocks and is killed as usual.
 */
async function* boundedLines(stdout: Readable, command: string): AsyncGenerator<string> {
  stdout.setEncoding("utf8");
  let partial = "";
  for await (const chunk of stdout as AsyncIterable<string>) {
    if (!chunk.includes("\n")) {
      partial += chunk;
    } else {
      const parts = (partial + chunk).split(/\r?\n/);
      partial = parts.pop() ?? "";
      for (const line of parts) yield line;
    }
    if (partial.length > MAX_LINE_CHARS) {
      throw new BackendFailure(
        "failed",
        `${command} wrote more than ${MAX_LINE_CHARS} characters without a line break; that is not the JSON event stream it should print`,
      );
    }
  }
  if (partial) yield partial;
}

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short command to completion (a ping's `--version`). Missing binary → "not installed";
 * no exit within `timeoutMs` → its group is killed and it fails with "timed out".
 */
export async function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number; clock: Clock; signal?: AbortSignal },
): Promise<CommandResult> {
  const group = spawnProcessGroup(command, args, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  group.stdin.end();
  const stdout: string[] = [];
  const reading = (async () => {
    for await (const line of group.lines) stdout.push(line);
  })();
  const outcome = await raceWithTimeout(group, options, async () => {
    const exit = await group.exited;
    await reading;
    return exit;
  });
  if (outcome.startError === "ENOENT") throw new BackendFailure("not installed", `${command} was not found on PATH`);
  if (outcome.startError) throw new BackendFailure("cannot start", `${command}: ${outcome.startError}`);
  return { exitCode: outcome.exitCode, stdout: stdout.join("\n"), stderr: group.stderr() };
}

/**
 * Awaits `work` while the group runs; on timeout or abort the group is killed and the promise
 * rejects with "timed out" or "cancelled".
 */
export async function raceWithTimeout<T>(
  group: ProcessGroup,
  options: { timeoutMs: number; clock: Clock; signal?: AbortSignal },
  work: () => Promise<T>,
): Promise<T> {
  const { clock, signal } = options;
  let timer: ReturnType<Clock["setTimeout"]> | null = null;
  let onAbort: (() => void) | null = null;
  const stopped = new Promise<never>((_resolve, reject) => {
    // The failure is reported once the killed child has been reaped: no zombie outlives it.
    const end = (failure: BackendFailure) => {
      group.kill();
      void group.exited.then(() => reject(failure));
    };
    timer = clock.setTimeout(
      () => end(new BackendFailure("timed out", `no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    onAbort = () => end(new BackendFailure("cancelled"));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work(), stopped]);
  } finally {
    if (timer) clock.clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Reads a child's stdout as JSON lines, handing each parsed event to `onEvent` until it returns
 * a final value or stdout ends. Lines that are not JSON objects are ignored (CLIs print banners).
 * Lines after the final one stay unread for the next call.
 */
export async function readJsonLines<T>(
  group: ProcessGroup,
  onEvent: (event: Record<string, unknown>) => T | undefined,
): Promise<T | undefined> {
  // Read by hand, not with for-await: leaving a for-await loop would end the line stream, and a
  // process kept for a conversation's next turn is read again from where this turn stopped.
  const lines = group.lines[Symbol.asyncIterator]();
  for (;;) {
    const next = await lines.next();
    if (next.done) break;
    const line = next.value;
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) continue;
    let event: unknown;
    try {
      event = JSON.parse(trimmed);
    } catch {
      continue;
    }
    if (event === null || typeof event !== "object") continue;
    const final = onEvent(event as Record<string, unknown>);
    if (final !== undefined) return final;
  }
  return undefined;
}

/** Why a CLI run ended without an answer, from its exit and stderr. */
export function describeEarlyExit(command: string, exit: ProcessExit, stderr: string): BackendFailure {
  if (exit.startError === "ENOENT") return new BackendFailure("not installed", `${command} was not found on PATH`);
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.exitCode}`;
  const tail = stderr.trim().split("\n").slice(-3).join(" ").slice(0, 500);
  return new BackendFailure("failed", `${command} ${how} before answering${tail ? `: ${tail}` : ""}`);
}

// Warm CLI sessions are process groups the backend module started; dispatch finds the group again.
const groupsOfSessions = new WeakMap<WarmSession, ProcessGroup>();

/** A warm session backed by a started process: ready once it runs, ended when it exits. */
export function processWarmSession(id: string, group: ProcessGroup): WarmSession {
  const session: WarmSession = {
    id,
    pid: group.pid,
    ready: group.spawned,
    exited: group.exited.then(() => undefined),
    kill: () => group.kill(),
  };
  groupsOfSessions.set(session, group);
  return session;
}

export function groupOfSession(session: WarmSession, kind: string): ProcessGroup {
  const group = groupsOfSessions.get(session);
  if (!group) throw new BackendFailure("failed", `that warm session was not started by the ${kind} backend`);
  if (group.hasExited) throw new BackendFailure("failed", `the warm ${kind} session ${session.id} has already ended`);
  return group;
}

/** Ends a finished run politely (stdin closed), then kills its group if it lingers. */
export function retire(group: ProcessGroup, clock: Clock, graceMs = 2_000): void {
  group.stdin.end();
  if (group.hasExited) return;
  const timer = clock.setTimeout(() => group.kill(), graceMs);
  void group.exited.then(() => clock.clearTimeout(timer));
}
