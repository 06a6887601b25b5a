// A backend's health entry as data: the empty one a new backend starts with, and the entry a ping
// result makes of the previous one at a given instant. Pure; the status is the caller's to
// recompute (health-status.ts), since time alone changes it too.
import { iso } from "../../shared/clock.ts";
import type { BackendHealth } from "../../shared/schemas.ts";
import type { PingResult } from "./backend.ts";
import { retryDelay } from "./health-status.ts";

/** How many recent ping latencies an entry keeps. */
export const LATENCY_HISTORY = 20;

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
    limitedUntil: null,
    limitReason: null,
    limitWarning: null,
  };
}

export interface PingSchedule {
  /** Time between successful pings. */
  intervalMs: number;
  /** The first retry after a failure; it doubles per failure up to `intervalMs`. */
  retryInitialMs: number;
}

/**
 * The entry after a ping that ended at `now` and took `latencyMs`: a success clears the reason
 * and failures and schedules the next ping an interval away; a failure counts, keeps the last
 * known version, forgets loaded models and backs off.
 */
export function entryAfterPing(
  entry: BackendHealth,
  result: PingResult,
  ping: { now: number; latencyMs: number },
  schedule: PingSchedule,
): BackendHealth {
  const { now, latencyMs } = ping;
  if (result.ok) {
    return {
      ...entry,
      reason: null,
      version: result.version,
      authMethod: result.authMethod,
      latencyMs,
      lastPing: iso(now),
      lastSuccess: iso(now),
      consecutiveFailures: 0,
      nextPingAt: iso(now + schedule.intervalMs),
      loadedModels: result.loadedModels ?? [],
      latencyHistory: [...entry.latencyHistory, { at: iso(now), ms: latencyMs }].slice(-LATENCY_HISTORY),
    };
  }
  const failures = entry.consecutiveFailures + 1;
  return {
    ...entry,
    reason: result.reason,
    version: result.version ?? entry.version,
    latencyMs,
    lastPing: iso(now),
    consecutiveFailures: failures,
    nextPingAt: iso(now + retryDelay(failures, schedule.retryInitialMs, schedule.intervalMs)),
    loadedModels: [],
  };
}
