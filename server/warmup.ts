// Warm standby: pings every backend on a timer (dead ones sooner, with backoff), keeps the
// `health` document's statuses true as time passes, and holds pre-warmed sessions with a TTL.
// Every change goes through the health document, which persists and pushes it.
import { randomBytes } from "node:crypto";
import { delimiter } from "node:path";
import { performance } from "node:perf_hooks";
import type { BackendDeps, DispatchResult, WarmSession } from "./backends/backend.ts";
import { BackendFailure } from "./backends/backend.ts";
import { healthStatus, nextTransitionAt, retryDelay } from "./backends/health-status.ts";
import { backendKindOf } from "./backends/index.ts";
import type { BackendSettings } from "./backends/settings.ts";
import { type Clock, iso, systemClock, type TimerHandle } from "./clock.ts";
import { type Config, parseConfig } from "./config.ts";
import { VersionedDocument } from "./document.ts";
import { notFound, SwitchboardError } from "./errors.ts";
import { type Logger, silentLogger } from "./log.ts";
import type { BackendHealth, Health, WarmSession as WarmSessionEntry } from "./schemas.ts";

export type WarmupSettings = Config["warmup"];

export interface WarmupOptions {
  document?: VersionedDocument<Health>;
  backends?: Record<string, BackendSettings>;
  settings?: WarmupSettings;
  clock?: Clock;
  logger?: Logger;
  /** Environment for spawned CLIs, over the hub's own (tests put fake CLIs on PATH here). */
  env?: NodeJS.ProcessEnv;
}

export interface DispatchOptions {
  prompt: string;
  onOutput: (text: string) => void;
  signal: AbortSignal;
  timeoutMs: number;
  /** Take a ready pre-warmed session when there is one (default true). */
  preferWarm?: boolean;
}

const LATENCY_HISTORY = 20;

export function emptyEntry(kind: string): BackendHealth {
  return {
    kind,
    status: "cold",
    reason: null,
    version: null,
    authMethod: null,
    latencyMs: null,
    lastPing: null,
    lastSuccess: null,
    consecutiveFailures: 0,
    nextPingAt: null,
    loadedModels: [],
    latencyHistory: [],
    prewarmed: [],
  };
}

/** The environment spawned CLIs get: the hub's, with `searchPath` before PATH and `env` on top. */
export function backendEnvironment(searchPath: string[], env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const basePath = env.PATH ?? process.env.PATH ?? "";
  return { ...env, PATH: [...searchPath, basePath].filter(Boolean).join(delimiter) };
}

export type Warmup = ReturnType<typeof createWarmup>;

export function createWarmup(options: WarmupOptions = {}) {
  const defaults = parseConfig({});
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const settings = options.settings ?? defaults.warmup;
  const configured = options.backends ?? defaults.backends;
  const backends = Object.fromEntries(Object.entries(configured).filter(([, b]) => b.enabled));
  const document =
    options.document ?? new VersionedDocument<Health>({ initial: { lastUpdated: iso(clock.now()), backends: {} } });
  const deps: BackendDeps = { clock, logger, env: backendEnvironment(settings.searchPath, options.env) };

  interface LiveSession {
    session: WarmSession;
    timer: TimerHandle | null;
  }
  interface Runtime {
    inFlight: Promise<BackendHealth> | null;
    abort: AbortController | null;
    pingTimer: TimerHandle | null;
    transitionTimer: TimerHandle | null;
    sessions: Map<string, LiveSession>;
  }
  const runtimes = new Map<string, Runtime>(
    Object.keys(backends).map((name) => [
      name,
      { inFlight: null, abort: null, pingTimer: null, transitionTimer: null, sessions: new Map() },
    ]),
  );
  const autoTimers = new Set<TimerHandle>();
  let started = false;
  let stopped = false;

  function known(name: string): { settings: BackendSettings; runtime: Runtime } {
    const backend = backends[name];
    const runtime = runtimes.get(name);
    if (!backend || !runtime) {
      throw notFound(
        `no backend named ${JSON.stringify(name)}; configured: ${Object.keys(backends).join(", ") || "none"}`,
      );
    }
    return { settings: backend, runtime };
  }

  const withStatus = (entry: BackendHealth, now: number): BackendHealth => {
    const status = healthStatus(entry, now, settings);
    return status === entry.status ? entry : { ...entry, status };
  };

  /** Applies a change to one entry (status recomputed) and schedules its next time-driven change. */
  function change(name: string, edit: (entry: BackendHealth) => BackendHealth): BackendHealth {
    const now = clock.now();
    const kind = backends[name]?.kind ?? "unknown";
    const applied = document.apply((state) => {
      const before = state.backends[name] ?? emptyEntry(kind);
      const after = withStatus(edit(before), now);
      if (after === before && state.backends[name]) return state;
      return { lastUpdated: iso(now), backends: { ...state.backends, [name]: after } };
    });
    // Durability is the document's job; a failing disk is logged by its writer and retried.
    if (applied) document.persist().catch(() => {});
    scheduleTransition(name);
    return document.state.backends[name] ?? emptyEntry(kind);
  }

  function scheduleTransition(name: string): void {
    const runtime = runtimes.get(name);
    const entry = document.state.backends[name];
    if (!runtime || !entry) return;
    if (runtime.transitionTimer) clock.clearTimeout(runtime.transitionTimer);
    runtime.transitionTimer = null;
    if (stopped || !started) return;
    const next = nextTransitionAt(entry, clock.now(), settings);
    if (next === null) return;
    runtime.transitionTimer = clock.setTimeout(() => {
      runtime.transitionTimer = null;
      change(name, (e) => e);
    }, next - clock.now());
    runtime.transitionTimer.unref?.();
  }

  function schedulePing(name: string, at: number): void {
    const runtime = runtimes.get(name);
    if (!runtime || stopped) return;
    if (runtime.pingTimer) clock.clearTimeout(runtime.pingTimer);
    runtime.pingTimer = clock.setTimeout(
      () => {
        runtime.pingTimer = null;
        pingNow(name).catch((error) => logger.error(`ping of ${name} failed: ${(error as Error).message}`));
      },
      Math.max(0, at - clock.now()),
    );
    runtime.pingTimer.unref?.();
  }

  /** Pings one backend now; a ping already in flight is joined, never doubled. */
  function pingNow(name: string): Promise<BackendHealth> {
    const { settings: backend, runtime } = known(name);
    if (runtime.inFlight) return runtime.inFlight;
    const abort = new AbortController();
    runtime.abort = abort;
    const startedAt = performance.now();
    runtime.inFlight = (async () => {
      let result: Awaited<ReturnType<ReturnType<typeof backendKindOf>["ping"]>>;
      try {
        result = await backendKindOf(backend).ping(backend, deps, {
          timeoutMs: settings.pingTimeoutMs,
          signal: abort.signal,
        });
      } catch (error) {
        result = { ok: false, reason: error instanceof BackendFailure ? error.reason : (error as Error).message };
      }
      const latencyMs = Math.round((performance.now() - startedAt) * 10) / 10;
      if (abort.signal.aborted) return document.state.backends[name] ?? emptyEntry(backend.kind);
      const now = clock.now();
      const entry = change(name, (e) => {
        if (result.ok) {
          return {
            ...e,
            reason: null,
            version: result.version,
            authMethod: result.authMethod,
            latencyMs,
            lastPing: iso(now),
            lastSuccess: iso(now),
            consecutiveFailures: 0,
            nextPingAt: iso(now + settings.intervalMs),
            loadedModels: result.loadedModels ?? [],
            latencyHistory: [...e.latencyHistory, { at: iso(now), ms: latencyMs }].slice(-LATENCY_HISTORY),
          };
        }
        const failures = e.consecutiveFailures + 1;
        return {
          ...e,
          reason: result.reason,
          version: result.version ?? e.version,
          latencyMs,
          lastPing: iso(now),
          consecutiveFailures: failures,
          nextPingAt: iso(now + retryDelay(failures, settings.retryInitialMs, settings.intervalMs)),
          loadedModels: [],
        };
      });
      if (entry.status === "dead") logger.warn(`backend ${name} is dead: ${entry.reason}`);
      if (entry.nextPingAt) schedulePing(name, Date.parse(entry.nextPingAt));
      return entry;
    })().finally(() => {
      runtime.inFlight = null;
      runtime.abort = null;
    });
    return runtime.inFlight;
  }

  const sessionEntry = (name: string, id: string): WarmSessionEntry | undefined =>
    document.state.backends[name]?.prewarmed.find((s) => s.id === id);

  function editSession(name: string, id: string, edit: (s: WarmSessionEntry) => WarmSessionEntry | null): void {
    change(name, (e) => {
      if (!e.prewarmed.some((s) => s.id === id)) return e;
      const prewarmed = e.prewarmed.flatMap((s) => (s.id === id ? (edit(s) ?? []) : [s]));
      return { ...e, prewarmed };
    });
  }

  function endSession(name: string, id: string): void {
    const runtime = runtimes.get(name);
    const live = runtime?.sessions.get(id);
    if (live) {
      if (live.timer) clock.clearTimeout(live.timer);
      live.session.kill();
      runtime?.sessions.delete(id);
    }
    editSession(name, id, () => null);
  }

  /**
   * Starts a pre-warmed session and returns its state at once (`starting`, then `ready` in the
   * health document). At the per-backend limit, the newest existing session is returned instead.
   */
  function preWarm(name: string): WarmSessionEntry {
    const { settings: backend, runtime } = known(name);
    if (stopped) throw new SwitchboardError("unavailable", "the hub is shutting down; it starts no new sessions");
    const waiting = (document.state.backends[name]?.prewarmed ?? []).filter((s) => s.state !== "busy");
    if (waiting.length >= settings.maxSessionsPerBackend) return waiting[waiting.length - 1] as WarmSessionEntry;
    const id = `${name}-${randomBytes(4).toString("hex")}`;
    const now = clock.now();
    let session: WarmSession;
    try {
      session = backendKindOf(backend).prewarm(backend, deps, { id, ttlMs: settings.sessionTtlMs });
    } catch (error) {
      throw new SwitchboardError("unavailable", `could not pre-warm ${name}: ${(error as Error).message}`);
    }
    const entry: WarmSessionEntry = {
      id,
      state: "starting",
      startedAt: iso(now),
      readyAt: null,
      expiresAt: iso(now + settings.sessionTtlMs),
      pid: session.pid,
    };
    const timer = clock.setTimeout(() => {
      if (sessionEntry(name, id)?.state !== "busy") {
        logger.info(`pre-warmed ${name} session ${id} was not used within its time to live; ending it`);
        endSession(name, id);
      }
    }, settings.sessionTtlMs);
    timer.unref?.();
    runtime.sessions.set(id, { session, timer });
    change(name, (e) => ({ ...e, prewarmed: [...e.prewarmed, entry] }));
    session.ready.then(
      () =>
        editSession(name, id, (s) =>
          s.state === "starting" ? { ...s, state: "ready", readyAt: iso(clock.now()) } : s,
        ),
      (error) => {
        logger.warn(`pre-warming ${name} failed: ${(error as Error).message}`);
        endSession(name, id);
      },
    );
    void session.exited.then(() => endSession(name, id));
    return entry;
  }

  /** Hands a ready pre-warmed session to the caller (the router); it is recorded as busy until it ends. */
  function acquireSession(name: string): WarmSession | null {
    const { runtime } = known(name);
    const ready = document.state.backends[name]?.prewarmed.find((s) => s.state === "ready");
    const live = ready ? runtime.sessions.get(ready.id) : undefined;
    if (!ready || !live) return null;
    if (live.timer) clock.clearTimeout(live.timer);
    live.timer = null;
    editSession(name, ready.id, (s) => ({ ...s, state: "busy", expiresAt: null }));
    return live.session;
  }

  /** Runs a prompt on a backend, on a ready warm session when there is one, else cold. */
  async function dispatch(
    name: string,
    request: DispatchOptions,
  ): Promise<DispatchResult & { start: "warm" | "cold" }> {
    const { settings: backend } = known(name);
    const session = request.preferWarm === false ? null : acquireSession(name);
    const result = await backendKindOf(backend).dispatch(backend, deps, {
      prompt: request.prompt,
      onOutput: request.onOutput,
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      ...(session ? { session } : {}),
    });
    return { ...result, start: session ? "warm" : "cold" };
  }

  /**
   * Automatic pre-warm: starts a session `autoPrewarmLeadMs` before a task's estimated dispatch.
   * Returns null when automatic pre-warming is off in config.
   */
  function scheduleAutoPrewarm(name: string, estimatedDispatchAt: number): { at: string; cancel(): void } | null {
    known(name);
    if (!settings.autoPrewarm || stopped) return null;
    const at = Math.max(clock.now(), estimatedDispatchAt - settings.autoPrewarmLeadMs);
    const timer = clock.setTimeout(() => {
      autoTimers.delete(timer);
      try {
        preWarm(name);
      } catch (error) {
        logger.warn(`automatic pre-warm of ${name} failed: ${(error as Error).message}`);
      }
    }, at - clock.now());
    timer.unref?.();
    autoTimers.add(timer);
    return {
      at: iso(at),
      cancel: () => {
        clock.clearTimeout(timer);
        autoTimers.delete(timer);
      },
    };
  }

  function getHealth(): Health;
  function getHealth(name: string): BackendHealth;
  function getHealth(name?: string): Health | BackendHealth {
    if (name === undefined) return document.state;
    known(name);
    return document.state.backends[name] ?? emptyEntry(backends[name]?.kind ?? "unknown");
  }

  /**
   * Starts the timers. Entries are made for every enabled backend (and dropped for others),
   * statuses recomputed from persisted timestamps, and sessions of a previous hub cleared — their
   * processes died with it. Backends not pinged recently are pinged at once.
   */
  function startWarmup(): void {
    if (started || stopped) return;
    started = true;
    const now = clock.now();
    // A ping a previous hub scheduled keeps its time; any other waits firstPingDelayMs.
    const firstPingAt = (entry: BackendHealth | undefined) => {
      const due = entry?.nextPingAt && entry.lastPing ? Date.parse(entry.nextPingAt) : now;
      return Math.max(now + settings.firstPingDelayMs, due);
    };
    document.apply((state) => {
      const next: Record<string, BackendHealth> = {};
      for (const [name, backend] of Object.entries(backends)) {
        const previous = state.backends[name];
        const entry = previous && previous.kind === backend.kind ? previous : emptyEntry(backend.kind);
        const kept = { ...entry, prewarmed: [], nextPingAt: iso(firstPingAt(entry)) };
        next[name] = withStatus(kept, now);
      }
      return { lastUpdated: iso(now), backends: next };
    });
    document.persist().catch(() => {});
    for (const name of Object.keys(backends)) {
      schedulePing(name, Date.parse(document.state.backends[name]?.nextPingAt ?? iso(now)));
      scheduleTransition(name);
    }
  }

  /** Stops every timer and in-flight ping, and kills every session; resolves when their processes are gone. */
  async function stopWarmup(): Promise<void> {
    if (stopped) return;
    stopped = true;
    for (const timer of autoTimers) clock.clearTimeout(timer);
    autoTimers.clear();
    const exits: Promise<unknown>[] = [];
    for (const [name, runtime] of runtimes) {
      if (runtime.pingTimer) clock.clearTimeout(runtime.pingTimer);
      if (runtime.transitionTimer) clock.clearTimeout(runtime.transitionTimer);
      runtime.abort?.abort();
      if (runtime.inFlight) exits.push(runtime.inFlight.catch(() => {}));
      for (const [id, live] of runtime.sessions) {
        exits.push(live.session.exited);
        endSession(name, id);
      }
    }
    await Promise.all(exits);
  }

  return {
    document,
    startWarmup,
    stopWarmup,
    getHealth,
    pingNow,
    preWarm,
    acquireSession,
    dispatch,
    scheduleAutoPrewarm,
    /** The configured, enabled backends by name. */
    backends: backends as Readonly<Record<string, BackendSettings>>,
  };
}

// ---- the default instance -----------------------------------------------------------------
// The seed's plain functions, on top of whichever warmup the entry point installs.

let defaultWarmup: Warmup | null = null;

export function useDefaultWarmup(warmup: Warmup): void {
  defaultWarmup = warmup;
}

const current = (): Warmup => {
  defaultWarmup ??= createWarmup();
  return defaultWarmup;
};

export const startWarmup = (): void => current().startWarmup();
export const stopWarmup = (): Promise<void> => current().stopWarmup();
export function getHealth(): Health;
export function getHealth(backend: string): BackendHealth;
export function getHealth(backend?: string): Health | BackendHealth {
  return backend === undefined ? current().getHealth() : current().getHealth(backend);
}
export const pingNow = (backend: string): Promise<BackendHealth> => current().pingNow(backend);
export const preWarm = (backend: string): WarmSessionEntry => current().preWarm(backend);
