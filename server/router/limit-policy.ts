// What the router does when a backend is limited: move the task to the next-best backend
// ("fallback", the default) or keep it queued until the reset ("wait"), and the sentence the
// task shows. Pure; the router acts on the answer.
import { wallClock } from "../time-zone.ts";

export type LimitPolicy = "fallback" | "wait";

export type LimitAction = { action: "move"; backend: string } | { action: "wait"; until: number };

/**
 * "fallback" moves the task when another backend can take it; otherwise, and always with
 * "wait", the task waits for the reset on the backend it is on.
 */
export function limitAction(input: { policy: LimitPolicy; until: number; alternative: string | null }): LimitAction {
  if (input.policy === "fallback" && input.alternative) return { action: "move", backend: input.alternative };
  return { action: "wait", until: input.until };
}

/** "14:05" in the hub's zone: a reset today reads as a time; a later one gains its date. */
export function resetTime(until: number, now: number, timeZone: string): string {
  const at = wallClock(until, timeZone);
  const today = wallClock(now, timeZone);
  const time = `${String(at.hour).padStart(2, "0")}:${String(at.minute).padStart(2, "0")}`;
  const sameDay = at.year === today.year && at.month === today.month && at.day === today.day;
  return sameDay ? time : `${at.year}-${String(at.month).padStart(2, "0")}-${String(at.day).padStart(2, "0")} ${time}`;
}

const named = (backend: string) => backend.charAt(0).toUpperCase() + backend.slice(1);

/** "Claude is limited until 14:05; continuing on codex" or "…; waiting for it". */
export function limitNote(backend: string, action: LimitAction, until: string): string {
  const head = `${named(backend)} is limited until ${until}`;
  return action.action === "move" ? `${head}; continuing on ${action.backend}` : `${head}; waiting for it`;
}
