// A backend's health status as a pure function of its entry and the clock, and the instant that
// status will next change by the passage of time alone (warm → healthy → cold, limited → cold).
import type { BackendHealth, HealthStatus } from "../../shared/schemas.ts";

export interface StatusWindows {
  /** A successful ping this recent is `warm`. */
  warmWindowMs: number;
  /** Ping interval; `healthy` lasts `intervalMs + graceMs` after a successful ping. */
  intervalMs: number;
  graceMs: number;
}

type StatusInputs = Pick<
  BackendHealth,
  "lastPing" | "lastSuccess" | "consecutiveFailures" | "loadedModels" | "prewarmed" | "limitedUntil"
>;

const at = (timestamp: string | null | undefined): number | null => (timestamp ? Date.parse(timestamp) : null);

/**
 * `limited` until `limitedUntil` whatever pings say; then what a ping says, except that a success
 * from before the limit ended says nothing about after it (so the backend is `cold` until pinged).
 */
export function healthStatus(entry: StatusInputs, now: number, windows: StatusWindows): HealthStatus {
  const limitedUntil = at(entry.limitedUntil);
  if (limitedUntil !== null && now < limitedUntil) return "limited";
  if (entry.consecutiveFailures > 0) return "dead";
  const pinged = at(entry.lastSuccess);
  const success = pinged !== null && limitedUntil !== null && pinged <= limitedUntil ? null : pinged;
  if (success === null && limitedUntil !== null) return "cold";
  const age = success === null ? Number.POSITIVE_INFINITY : now - success;
  const healthyFor = windows.intervalMs + windows.graceMs;
  if (entry.prewarmed.some((session) => session.state === "ready")) return "warm";
  // A loaded model is ready now only as far as the last (recent enough) ping knows.
  if (entry.loadedModels.length > 0 && age < healthyFor) return "warm";
  if (age < windows.warmWindowMs) return "warm";
  if (age < healthyFor) return "healthy";
  return "cold";
}

/** When the status changes next with no ping and no session event, or null if it never will. */
export function nextTransitionAt(entry: StatusInputs, now: number, windows: StatusWindows): number | null {
  const limitedUntil = at(entry.limitedUntil);
  if (limitedUntil !== null && now < limitedUntil) return limitedUntil;
  if (entry.consecutiveFailures > 0) return null;
  const success = at(entry.lastSuccess);
  if (success === null) return null;
  const current = healthStatus(entry, now, windows);
  const candidates = [success + windows.warmWindowMs, success + windows.intervalMs + windows.graceMs];
  for (const instant of candidates) {
    if (instant > now && healthStatus(entry, instant, windows) !== current) return instant;
  }
  return null;
}

/** Exponential backoff for a dead backend: `retryInitialMs` doubling per failure, capped at `intervalMs`. */
export function retryDelay(consecutiveFailures: number, retryInitialMs: number, intervalMs: number): number {
  const doublings = Math.max(0, consecutiveFailures - 1);
  return Math.min(intervalMs, retryInitialMs * 2 ** Math.min(doublings, 30));
}
