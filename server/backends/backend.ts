// The contract every backend kind implements (claude, codex, ollama, …): one small module with
// `ping`, `prewarm` and `dispatch`, so adding a backend is one file and one config entry.
// Processes and HTTP are reached only through the injected `BackendDeps`, so tests can swap
// them for fakes on loopback.
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";

/** The outcome of one cheap health ping. */
export type PingResult =
  | {
      ok: true;
      version: string | null;
      authMethod: string | null;
      /** Models loaded in memory now (Ollama); a non-empty list makes the backend warm. */
      loadedModels?: string[];
    }
  | {
      ok: false;
      /** Person-facing: "not installed", "not logged in", "timed out", "unreachable", … */
      reason: string;
      version?: string | null;
    };

/** A backend process (or loaded model) started ahead of time, waiting for one task. */
export interface WarmSession {
  readonly id: string;
  readonly pid: number | null;
  /** Resolves when the session can take a task at once; rejects if it dies first. */
  readonly ready: Promise<void>;
  /** Resolves when the session has ended (exited, killed, or its load failed); never rejects. */
  readonly exited: Promise<void>;
  /** Kills the session (its whole process group) if it is still alive. */
  kill(): void;
}

export interface DispatchRequest {
  prompt: string;
  /** A ready warm session to run on; when absent, the backend is started cold. */
  session?: WarmSession;
  /** Called with human-readable text as the backend streams it. */
  onOutput: (text: string) => void;
  /** Aborting kills the run (process group) and rejects with a cancellation error. */
  signal: AbortSignal;
  timeoutMs: number;
}

export interface DispatchResult {
  /** The final answer text, written to the task's output file by the router. */
  output: string;
}

export interface BackendKind<Settings> {
  readonly kind: string;
  ping(
    settings: Settings,
    deps: BackendDeps,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<PingResult>;
  prewarm(settings: Settings, deps: BackendDeps, options: { id: string; ttlMs?: number }): WarmSession;
  dispatch(settings: Settings, deps: BackendDeps, request: DispatchRequest): Promise<DispatchResult>;
}

export interface BackendDeps {
  clock: Clock;
  logger: Logger;
  /** Extra environment for spawned CLIs (tests put fake CLIs on PATH this way). */
  env?: NodeJS.ProcessEnv;
}

/** A failure with a person-facing reason, raised by ping or dispatch. */
export class BackendFailure extends Error {
  readonly reason: string;
  constructor(reason: string, detail?: string) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = "BackendFailure";
    this.reason = reason;
  }
}
