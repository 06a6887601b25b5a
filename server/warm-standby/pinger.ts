// The pinger: pings every backend on a timer (a healthy one each interval, a dead one sooner,
// with backoff), joins a ping already in flight, and can be paused and resumed. What a ping
// result makes of an entry is decided in backends/health-entry.ts.
import { performance } from "node:perf_hooks";
import { type Clock, iso, type TimerHandle } from "../../shared/clock.ts";
import type { BackendHealth } from "../../shared/schemas.ts";
import { type BackendDeps, BackendFailure, type PingResult } from "../backends/backend.ts";
import { entryAfterPing, type PingSchedule } from "../backends/health-entry.ts";
import { backendKindOf } from "../backends/index.ts";
import type { Logger } from "../log.ts";
import type { BackendHealthBoard } from "./backend-health.ts";

export interface PingerSettings extends PingSchedule {
  pingTimeoutMs: number;
  /** After start-up (or a resume), the first pings wait this long so the hub serves its first clients first. */
  firstPingDelayMs: number;
}

export interface PingerOptions {
  health: BackendHealthBoard;
  settings: PingerSettings;
  deps: BackendDeps;
  clock: Clock;
  logger: Logger;
}

export function createPinger({ health, settings, deps, clock, logger }: PingerOptions) {
  interface Runtime {
    inFlight: Promise<BackendHealth> | null;
    abort: AbortController | null;
    timer: TimerHandle | null;
  }
  const runtimes = new Map<string, Runtime>(
    Object.keys(health.backends).map((name) => [name, { inFlight: null, abort: null, timer: null }]),
  );
  // Pings are scheduled only while running: after start() or resume(), until pause() or stop().
  let running = false;
  let stopped = false;

  function runtimeOf(name: string): Runtime {
    health.settingsOf(name);
    return runtimes.get(name) as Runtime;
  }

  function schedule(name: string, at: number): void {
    const runtime = runtimes.get(name);
    if (!runtime || !running) return;
    if (runtime.timer) clock.clearTimeout(runtime.timer);
    runtime.timer = clock.setTimeout(
      () => {
        runtime.timer = null;
        pingNow(name).catch((error) => logger.error(`ping of ${name} failed: ${(error as Error).message}`));
      },
      Math.max(0, at - clock.now()),
    );
    runtime.timer.unref?.();
  }

  /** Pings one backend now; a ping already in flight is joined, never doubled. */
  function pingNow(name: string): Promise<BackendHealth> {
    const backend = health.settingsOf(name);
    const runtime = runtimeOf(name);
    if (runtime.inFlight) return runtime.inFlight;
    const abort = new AbortController();
    runtime.abort = abort;
    const startedAt = performance.now();
    runtime.inFlight = (async () => {
      let result: PingResult;
      try {
        result = await backendKindOf(backend).ping(backend, deps, {
          timeoutMs: settings.pingTimeoutMs,
          signal: abort.signal,
        });
      } catch (error) {
        result = { ok: false, reason: error instanceof BackendFailure ? error.reason : (error as Error).message };
      }
      const latencyMs = Math.round((performance.now() - startedAt) * 10) / 10;
      if (abort.signal.aborted) return health.entry(name);
      const now = clock.now();
      const entry = health.change(name, (e) => entryAfterPing(e, result, { now, latencyMs }, settings));
      if (entry.status === "dead") logger.warn(`backend ${name} is dead: ${entry.reason}`);
      if (entry.nextPingAt) schedule(name, Date.parse(entry.nextPingAt));
      return entry;
    })().finally(() => {
      runtime.inFlight = null;
      runtime.abort = null;
    });
    return runtime.inFlight;
  }

  /**
   * When a backend is first pinged after start-up: at the time a previous hub scheduled, but not
   * before `firstPingDelayMs` from now.
   */
  function firstPingAt(entry: BackendHealth, now: number): number {
    const due = entry.nextPingAt && entry.lastPing ? Date.parse(entry.nextPingAt) : now;
    return Math.max(now + settings.firstPingDelayMs, due);
  }

  /** The entry as start-up leaves it: its next ping time set (the caller persists it). */
  function prepare(entry: BackendHealth, now: number): BackendHealth {
    return { ...entry, nextPingAt: iso(firstPingAt(entry, now)) };
  }

  /** Schedules every backend's next ping at its entry's `nextPingAt`. */
  function start(): void {
    if (running || stopped) return;
    running = true;
    for (const name of runtimes.keys()) {
      const { nextPingAt } = health.entry(name);
      schedule(name, nextPingAt ? Date.parse(nextPingAt) : clock.now());
    }
  }

  /** Stops pinging (timers cleared, a ping in flight abandoned) until resume(). */
  function pause(): Promise<void> {
    running = false;
    const settled: Promise<unknown>[] = [];
    for (const runtime of runtimes.values()) {
      if (runtime.timer) clock.clearTimeout(runtime.timer);
      runtime.timer = null;
      runtime.abort?.abort();
      if (runtime.inFlight) settled.push(runtime.inFlight.catch(() => {}));
    }
    return Promise.all(settled).then(() => {});
  }

  /** Pings again: every backend at its next ping time, or after `firstPingDelayMs` if that has passed. */
  function resume(): void {
    if (running || stopped) return;
    running = true;
    const now = clock.now();
    for (const name of runtimes.keys()) schedule(name, firstPingAt(health.entry(name), now));
  }

  /** Pauses for good; resolves when no ping process is left. */
  function stop(): Promise<void> {
    stopped = true;
    return pause();
  }

  return {
    pingNow,
    prepare,
    start,
    pause,
    resume,
    stop,
    get paused(): boolean {
      return !running;
    },
  };
}
