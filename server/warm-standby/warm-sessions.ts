// The pool of pre-warmed sessions: backend processes (or loaded models) started ahead of a task,
// recorded in the backend's health entry (`starting` → `ready` → `busy`), ended unused after
// their time to live, handed to the router one at a time, and started automatically ahead of an
// estimated dispatch when configured.
import { randomBytes } from "node:crypto";
import { type Clock, iso, type TimerHandle } from "../../shared/clock.ts";
import type { WarmSession as WarmSessionEntry } from "../../shared/schemas.ts";
import type { BackendDeps, WarmSession } from "../backends/backend.ts";
import { backendKindOf } from "../backends/index.ts";
import { SwitchboardError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import type { BackendHealthBoard } from "./backend-health.ts";

export interface WarmSessionSettings {
  maxSessionsPerBackend: number;
  sessionTtlMs: number;
  autoPrewarm: boolean;
  autoPrewarmLeadMs: number;
}

export interface WarmSessionsOptions {
  health: BackendHealthBoard;
  settings: WarmSessionSettings;
  deps: BackendDeps;
  clock: Clock;
  logger: Logger;
  /** Where sessions work: the default workspace, never the hub's own directory. */
  workspace: ResolvedWorkspace;
}

export function createWarmSessions({ health, settings, deps, clock, logger, workspace }: WarmSessionsOptions) {
  interface LiveSession {
    backend: string;
    session: WarmSession;
    timer: TimerHandle | null;
  }
  const live = new Map<string, LiveSession>();
  const autoTimers = new Set<TimerHandle>();
  let stopped = false;

  const sessionEntry = (name: string, id: string): WarmSessionEntry | undefined =>
    health.entry(name).prewarmed.find((s) => s.id === id);

  function editSession(name: string, id: string, edit: (s: WarmSessionEntry) => WarmSessionEntry | null): void {
    health.change(name, (e) => {
      if (!e.prewarmed.some((s) => s.id === id)) return e;
      const prewarmed = e.prewarmed.flatMap((s) => (s.id === id ? (edit(s) ?? []) : [s]));
      return { ...e, prewarmed };
    });
  }

  function endSession(name: string, id: string): void {
    const session = live.get(id);
    if (session) {
      if (session.timer) clock.clearTimeout(session.timer);
      session.session.kill();
      live.delete(id);
    }
    editSession(name, id, () => null);
  }

  /**
   * Starts a pre-warmed session and returns its state at once (`starting`, then `ready` in the
   * health document). At the per-backend limit, the newest existing session is returned instead.
   */
  function preWarm(name: string): WarmSessionEntry {
    const backend = health.settingsOf(name);
    if (stopped) throw new SwitchboardError("unavailable", "the hub is shutting down; it starts no new sessions");
    const waiting = health.entry(name).prewarmed.filter((s) => s.state !== "busy");
    if (waiting.length >= settings.maxSessionsPerBackend) return waiting[waiting.length - 1] as WarmSessionEntry;
    const id = `${name}-${randomBytes(4).toString("hex")}`;
    const now = clock.now();
    let session: WarmSession;
    try {
      session = backendKindOf(backend).prewarm(backend, deps, {
        id,
        ttlMs: settings.sessionTtlMs,
        workspace,
      });
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
    live.set(id, { backend: name, session, timer });
    health.change(name, (e) => ({ ...e, prewarmed: [...e.prewarmed, entry] }));
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

  /**
   * Hands a ready pre-warmed session to the caller (the router); it is recorded as busy until it ends.
   * Sessions work in the default workspace: a task for another one gets none.
   */
  function acquireSession(name: string, forWorkspace?: ResolvedWorkspace): WarmSession | null {
    health.settingsOf(name);
    if (forWorkspace && forWorkspace.name !== workspace.name) return null;
    const ready = health.entry(name).prewarmed.find((s) => s.state === "ready");
    const session = ready ? live.get(ready.id) : undefined;
    if (!ready || !session) return null;
    if (session.timer) clock.clearTimeout(session.timer);
    session.timer = null;
    editSession(name, ready.id, (s) => ({ ...s, state: "busy", expiresAt: null }));
    return session.session;
  }

  /**
   * Automatic pre-warm: starts a session `autoPrewarmLeadMs` before a task's estimated dispatch.
   * Returns null when automatic pre-warming is off in config.
   */
  function scheduleAutoPrewarm(name: string, estimatedDispatchAt: number): { at: string; cancel(): void } | null {
    health.settingsOf(name);
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

  /** Kills every session and cancels automatic pre-warms; resolves when their processes are gone. */
  async function stop(): Promise<void> {
    stopped = true;
    for (const timer of autoTimers) clock.clearTimeout(timer);
    autoTimers.clear();
    const exits: Promise<void>[] = [];
    for (const [id, session] of live) {
      exits.push(session.session.exited);
      endSession(session.backend, id);
    }
    await Promise.all(exits);
  }

  return { preWarm, acquireSession, scheduleAutoPrewarm, stop };
}
