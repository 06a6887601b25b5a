// The contract every backend kind implements (claude, codex, ollama, …): one module with `ping`,
// `prewarm` and `dispatch`. A new kind is that module, its name in settings.ts (BACKEND_KINDS) and
// a line in index.ts; its vendor's environment prefix in environment.ts, and workspace rules in
// workspaces/ only if it edits files (docs/backends-and-router.md, "Adding a backend").
// Processes and HTTP are reached only through the injected `BackendDeps`, so tests can swap
// them for fakes on loopback.
import type { Clock } from "../../shared/clock.ts";
import type { Usage } from "../../shared/schemas.ts";
import type { Logger } from "../log.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import type { Limit } from "./limits.ts";
import type { RateLimitInfo } from "./stream-events.ts";

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
  /** The task this run belongs to (tool approvals are asked for it). */
  taskId?: string;
  /** Where the CLI works and what it may do there; a warm session is only given for its own. */
  workspace?: ResolvedWorkspace;
  /** A ready warm session to run on; when absent, the backend is started cold. */
  session?: WarmSession;
  /** Called with human-readable text as the backend streams it. */
  onOutput: (text: string) => void;
  /** Aborting kills the run (process group) and rejects with a cancellation error. */
  signal: AbortSignal;
  timeoutMs: number;
  /** The conversation to continue: a Claude session id, a Codex thread id. Absent: a new one. */
  resume?: string;
  /** Earlier turns, oldest first, for a backend whose conversation the hub keeps (Ollama). */
  history?: ChatTurn[];
  /** Keep the process after the answer, holding the conversation for the next turn (Claude): see `kept`. */
  keep?: boolean;
}

/** One turn of a conversation the hub keeps itself. */
export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

export interface DispatchResult {
  /** The final answer text, written to the task's output file by the router. */
  output: string;
  /** Tokens, cost and turns of the run, when the backend reports them. */
  usage?: Usage | null;
  /** The last subscription-limit state the run reported (claude's `rate_limit_event`). */
  rateLimit?: RateLimitInfo | null;
  /** The conversation this turn belongs to, to resume on the next turn; null when none is named. */
  conversationId?: string | null;
  /** The live process still holding the conversation, ready for its next turn (given back as `session`). */
  kept?: WarmSession;
}

export interface BackendKind<Settings> {
  readonly kind: string;
  /**
   * The backend keeps a conversation itself and continues it by id (`resume`), so a pre-warmed
   * process, which starts a new one, cannot run its later turns; otherwise the hub sends `history`.
   */
  readonly keepsConversation: boolean;
  ping(
    settings: Settings,
    deps: BackendDeps,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<PingResult>;
  prewarm(
    settings: Settings,
    deps: BackendDeps,
    options: { id: string; ttlMs?: number; workspace?: ResolvedWorkspace },
  ): WarmSession;
  dispatch(settings: Settings, deps: BackendDeps, request: DispatchRequest): Promise<DispatchResult>;
}

export interface BackendDeps {
  clock: Clock;
  logger: Logger;
  /** The environment spawned CLIs get (environment.ts: filtered, no hub secrets); per backend, its `env` pass-list is added. */
  env?: NodeJS.ProcessEnv;
  /**
   * Where a CLI runs that works in no task's workspace (health pings, a run given none): the
   * default workspace's folder, never the hub's own directory.
   */
  cwd?: string;
  /** The hub's tool-approval MCP server for Claude (absent: Claude runs without a permission prompt). */
  permissionPrompts?: PermissionPrompts;
}

/** Prepares the hub's approval MCP server for CLI processes, one at a time. */
export interface PermissionPrompts {
  /** A fresh run: the CLI arguments that name the MCP server, and a handle to bind and close it. */
  open(): PermissionPromptRun;
}

export interface PermissionPromptRun {
  /** E.g. `--mcp-config <file> --permission-prompt-tool mcp__switchboard__approve`. */
  readonly args: string[];
  /** From now on this process's tool calls belong to `taskId`, judged by `workspace`'s rules. */
  bind(binding: { taskId: string; workspace: ResolvedWorkspace }): void;
  /** The process has ended: its MCP config is removed and late calls are refused. */
  close(): void;
}

/** A failure with a person-facing reason, raised by ping or dispatch. */
export class BackendFailure extends Error {
  readonly reason: string;
  constructor(reason: string, detail?: string) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = "BackendFailure";
    this.reason = reason;
  }
  /** What the failed run cost, when the backend said (claude reports it with its error). */
  usage?: Usage | null;
  /** The last subscription-limit state the run reported before it failed. */
  rateLimit?: RateLimitInfo | null;
}

/** A run refused because a subscription window is used up: the backend rests until `limit.until`. */
export class BackendLimited extends BackendFailure {
  readonly limit: Limit;
  readonly backend: string;
  constructor(backend: string, limit: Limit, detail: string) {
    super("limited", detail);
    this.name = "BackendLimited";
    this.backend = backend;
    this.limit = limit;
  }
}
