// The health ping both CLI backends share: `<cli> --version` proves the binary runs, then the
// kind's auth-status command proves it is logged in (a version alone does not).
import type { Clock } from "../../shared/clock.ts";
import { BackendFailure, type BackendKind, type PingResult } from "./backend.ts";
import { environmentFor } from "./environment.ts";
import { type CommandResult, runCommand } from "./process.ts";
import type { BackendSettings } from "./settings.ts";

export interface AuthState {
  loggedIn: boolean;
  authMethod: string | null;
}

export interface CliPingOptions {
  command: string;
  authArgs: string[];
  readAuth: (result: CommandResult) => AuthState;
  env: NodeJS.ProcessEnv | undefined;
  /** Where both commands run (the default workspace's folder). */
  cwd: string | undefined;
  clock: Clock;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * A CLI backend kind's `ping`: its command (`commandOf`, the kind's own reading of its settings)
 * run in the backend's filtered environment and the default workspace, with the kind's auth-status check.
 */
export function cliPing(
  commandOf: (settings: BackendSettings) => string,
  authArgs: string[],
  readAuth: CliPingOptions["readAuth"],
): BackendKind<BackendSettings>["ping"] {
  return (settings, deps, { timeoutMs, signal }) =>
    pingCli({
      command: commandOf(settings),
      authArgs,
      readAuth,
      env: environmentFor(deps.env, settings.env),
      cwd: deps.cwd,
      clock: deps.clock,
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
}

async function pingCli(options: CliPingOptions): Promise<PingResult> {
  const { command, clock } = options;
  // One deadline for both commands: the ping as a whole has the timeout.
  const deadline = clock.now() + options.timeoutMs;
  const run = (args: string[]) =>
    runCommand(command, args, {
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      clock,
      timeoutMs: Math.max(1, deadline - clock.now()),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  let version: string | null = null;
  try {
    const answer = await run(["--version"]);
    if (answer.exitCode !== 0) {
      return { ok: false, reason: `${command} --version exited with status ${answer.exitCode}` };
    }
    version = firstLine(answer.stdout) ?? firstLine(answer.stderr);
    const auth = options.readAuth(await run(options.authArgs));
    if (!auth.loggedIn) return { ok: false, reason: "not logged in", version };
    return { ok: true, version, authMethod: auth.authMethod };
  } catch (error) {
    if (error instanceof BackendFailure) return { ok: false, reason: error.reason, version };
    throw error;
  }
}

export function firstLine(text: string): string | null {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ? line.slice(0, 200) : null;
}

/** The first JSON object printed, or null when there is none. */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end < start) return null;
  try {
    const value: unknown = JSON.parse(text.slice(start, end + 1));
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
