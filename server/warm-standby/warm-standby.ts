// Warm standby: the health of every configured backend (backend-health.ts), kept
// true by the pinger (pinger.ts) and the pool of pre-warmed sessions
// (warm-sessions.ts), and dispatch, which takes a ready session when there is one.
// Every change goes through the health document, which persists and pushes it.

import { type Clock, iso } from "../../shared/clock.ts";
import type { BackendHealth, Health } from "../../shared/schemas.ts";
import {
  type BackendDeps,
  BackendFailure,
  BackendLimited,
  type ChatTurn,
  type DispatchResult,
  type PermissionPrompts,
  type WarmSession,
} from "../backends/backend.ts";
import { backendEnvironment } from "../backends/environment.ts";
import { backendKindOf } from "../backends/index.ts";
import {
  entryWithLimit,
  entryWithWarning,
  limitOfMessage,
  limitOfRateLimit,
  warningOfRateLimit,
} from "../backends/limits.ts";
import type { BackendSettings } from "../backends/settings.ts";
import type { RateLimitInfo } from "../backends/stream-events.ts";
import type { Config } from "../config.ts";
import { VersionedDocument } from "../document.ts";
import { type Logger, silentLogger } from "../log.ts";
import { localTimeZone } from "../time-zone.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import { createBackendHealth } from "./backend-health.ts";
import { createPinger } from "./pinger.ts";
import { createWarmSessions } from "./warm-sessions.ts";

export interface WarmStandbyOptions {
  document?: VersionedDocument<Health>;
  backends: Record<string, BackendSettings>;
  settings: Config["warmup"];
  clock: Clock;
  logger?: Logger;
  /** Environment for spawned CLIs, over the hub's own (tests put fake CLIs on PATH here). */
  env?: NodeJS.ProcessEnv;
  /**
   * Where pre-warmed sessions work and health pings run: the default workspace (the data
   * directory's `workspace` folder unless `router.defaultWorkspace` names another), never the
   * hub's own directory.
   */
  workspace: ResolvedWorkspace;
  /** The hub's tool-approval MCP server, given to Claude processes. */
  permissionPrompts?: PermissionPrompts;
  /** How long a backend rests after a limit whose message gives no reset time (router.limitBackoffMs). */
  limitBackoffMs?: number;
  /** The zone reset times in limit messages are read in ("try again at 2:05 PM"); the hub's own by default. */
  timeZone?: string;
}

const DEFAULT_LIMIT_BACKOFF_MS = 3_600_000;

export interface DispatchOptions {
  prompt: string;
  onOutput: (text: string) => void;
  signal: AbortSignal;
  timeoutMs: number;
  /** Take a ready pre-warmed session when there is one (default true). */
  preferWarm?: boolean;
  /** The task it runs for; its tool approvals are asked for this task. */
  taskId?: string;
  /** Where it works; a warm session started for another workspace is not used. */
  workspace?: ResolvedWorkspace;
  /** The conversation to continue (a Claude session or Codex thread id); a pre-warmed session cannot, so none is taken. */
  resume?: string;
  /** Earlier turns of a conversation the hub keeps (Ollama). */
  history?: ChatTurn[];
  /** A process kept from this conversation's last turn: it runs this turn at once. */
  conversation?: WarmSession;
  /** Keep the process for the conversation's next turn (returned as `kept`). */
  keep?: boolean;
}

export type WarmStandby = ReturnType<typeof createWarmStandby>;

export function createWarmStandby(options: WarmStandbyOptions) {
  const { clock, settings } = options;
  const logger = options.logger ?? silentLogger;
  const backends = Object.fromEntries(Object.entries(options.backends).filter(([, b]) => b.enabled));
  const document =
    options.document ?? new VersionedDocument<Health>({ initial: { lastUpdated: iso(clock.now()), backends: {} } });
  const deps: BackendDeps = {
    clock,
    logger,
    // The hub's environment filtered (no secrets of its own), `options.env` on top, searchPath first.
    env: backendEnvironment({
      hubEnv: process.env,
      searchPath: settings.searchPath,
      ...(options.env ? { extra: options.env } : {}),
    }),
    cwd: options.workspace.path,
    ...(options.permissionPrompts ? { permissionPrompts: options.permissionPrompts } : {}),
  };
  const health = createBackendHealth({ document, backends, windows: settings, clock });
  const pinger = createPinger({ health, settings, deps, clock, logger });
  const sessions = createWarmSessions({
    health,
    settings,
    deps,
    clock,
    logger,
    workspace: options.workspace,
  });
  let started = false;
  let stopped = false;
  const limitBackoffMs = options.limitBackoffMs ?? DEFAULT_LIMIT_BACKOFF_MS;

  /** A run's last rate-limit state: `rejected` rests the backend, a warning is recorded, `allowed` clears it. */
  function noteRateLimit(name: string, info: RateLimitInfo | null | undefined): void {
    if (!info) return;
    const now = clock.now();
    const limit = limitOfRateLimit(info, now, limitBackoffMs);
    health.change(name, (entry) =>
      limit ? entryWithLimit(entry, limit, now) : entryWithWarning(entry, warningOfRateLimit(info, now)),
    );
  }

  /** A failure that says a subscription limit is reached becomes BackendLimited, and the backend rests. */
  function limitedOrAsIs(name: string, error: unknown): unknown {
    if (!(error instanceof BackendFailure) || error.reason === "cancelled") return error;
    const now = clock.now();
    const limit =
      (error.rateLimit ? limitOfRateLimit(error.rateLimit, now, limitBackoffMs) : null) ??
      // The zone is asked of Intl only here, when a limit is told: never during start-up.
      limitOfMessage(error.message, now, limitBackoffMs, options.timeZone ?? localTimeZone());
    if (!limit) {
      noteRateLimit(name, error.rateLimit);
      return error;
    }
    health.change(name, (entry) => entryWithLimit(entry, limit, now));
    logger.warn(`backend ${name} is limited until ${iso(limit.until)}: ${limit.reason}`);
    const limited = new BackendLimited(name, limit, error.message);
    limited.usage = error.usage ?? null;
    return limited;
  }

  /** Runs a prompt on a backend, on a ready warm session when there is one, else cold. */
  async function dispatch(
    name: string,
    request: DispatchOptions,
  ): Promise<DispatchResult & { start: "warm" | "cold" }> {
    const backend = health.settingsOf(name);
    const session: WarmSession | null =
      request.conversation ??
      (request.preferWarm === false || (request.resume && backendKindOf(backend).keepsConversation)
        ? null
        : sessions.acquireSession(name, request.workspace));
    let result: DispatchResult;
    try {
      result = await backendKindOf(backend).dispatch(backend, deps, {
        ...(request.resume ? { resume: request.resume } : {}),
        ...(request.history ? { history: request.history } : {}),
        ...(request.keep ? { keep: true } : {}),
        prompt: request.prompt,
        ...(request.taskId ? { taskId: request.taskId } : {}),
        ...(request.workspace ? { workspace: request.workspace } : {}),
        onOutput: request.onOutput,
        signal: request.signal,
        timeoutMs: request.timeoutMs,
        ...(session ? { session } : {}),
      });
    } catch (error) {
      throw limitedOrAsIs(name, error);
    }
    noteRateLimit(name, result.rateLimit);
    return { ...result, start: session ? "warm" : "cold" };
  }

  function getHealth(): Health;
  function getHealth(name: string): BackendHealth;
  function getHealth(name?: string): Health | BackendHealth {
    if (name === undefined) return document.state;
    health.settingsOf(name);
    return health.entry(name);
  }

  /**
   * Starts the timers. Entries are made for every enabled backend (and dropped for others),
   * statuses recomputed from persisted timestamps, and sessions of a previous hub cleared — their
   * processes died with it. Backends not pinged recently are pinged once `firstPingDelayMs` has passed.
   */
  function start(): void {
    if (started || stopped) return;
    started = true;
    const now = clock.now();
    health.start((entry) => pinger.prepare({ ...entry, prewarmed: [] }, now));
    // Pings paused through the health document stay paused after a restart.
    if (!document.state.pingsPaused) pinger.start();
  }

  /**
   * `stopWarmup`: pauses the periodic pings (statuses still follow the clock) through the health
   * document, so every subscriber sees `pingsPaused`; resolves once that is durable.
   */
  async function pausePinging(): Promise<Health> {
    await pinger.pause();
    await document.mutate((state) =>
      state.pingsPaused ? state : { ...state, lastUpdated: iso(clock.now()), pingsPaused: true },
    );
    return document.state;
  }

  /** `startWarmup`: pings again (a backend whose ping is overdue after `firstPingDelayMs`); durable like a pause. */
  async function resumePinging(): Promise<Health> {
    await document.mutate((state) =>
      state.pingsPaused ? { ...state, lastUpdated: iso(clock.now()), pingsPaused: false } : state,
    );
    if (started && !stopped) pinger.resume();
    return document.state;
  }

  /** Stops every timer and in-flight ping, and kills every session; resolves when their processes are gone. */
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    health.stop();
    await Promise.all([pinger.stop(), sessions.stop()]);
  }

  return {
    document,
    start,
    stop,
    pausePinging,
    resumePinging,
    getHealth,
    pingNow: pinger.pingNow,
    preWarm: sessions.preWarm,
    acquireSession: sessions.acquireSession,
    dispatch,
    scheduleAutoPrewarm: sessions.scheduleAutoPrewarm,
    /**
     * Resolves once every health change made so far is durable. Health changes are applied and
     * pushed at once and written behind; a REST caller (ping, prewarm) is answered after this.
     */
    whenDurable: () => document.persist(),
    /** The configured, enabled backends by name. */
    backends: backends as Readonly<Record<string, BackendSettings>>,
  };
}
