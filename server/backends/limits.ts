// Subscription limits as decisions: what a claude `rate_limit_event` or a "usage limit" error
// message means (limited until when, which window), and the health entry that results. Pure;
// the clock and the hub's time zone are arguments.
import { iso } from "../../shared/clock.ts";
import type { BackendHealth } from "../../shared/schemas.ts";
import { addDays, dayKey, instantOf, isTimeZone, wallClock } from "../time-zone.ts";
import type { RateLimitInfo } from "./stream-events.ts";

/** A backend that may not be used until `until` (epoch ms). */
export interface Limit {
  until: number;
  /** The window in claude's words ("five_hour", "seven_day", …), or null when unknown. */
  window: string | null;
  /** Person-facing: "five-hour limit reached". */
  reason: string;
}

export type LimitWarning = NonNullable<BackendHealth["limitWarning"]>;

const WINDOW_WORDS: Record<string, string> = {
  five_hour: "five-hour limit",
  seven_day: "weekly limit",
  seven_day_opus: "weekly Opus limit",
  seven_day_sonnet: "weekly Sonnet limit",
  seven_day_overage_included: "weekly limit",
  overage: "extra-usage limit",
};

/** A window in words: "five-hour limit", "weekly limit"; "usage limit" when unknown. */
export function windowWords(window: string | null | undefined): string {
  return (window && WINDOW_WORDS[window]) || "usage limit";
}

/** A reset further away than this is not believed (a misread message); the backoff applies instead. */
const MAX_RESET_MS = 8 * 24 * 3_600_000;

const plausible = (until: number | null, now: number): until is number =>
  until !== null && Number.isFinite(until) && until > now && until - now <= MAX_RESET_MS;

/** A `rejected` rate-limit event: limited until its reset (or for `backoffMs` when it gives none). */
export function limitOfRateLimit(info: RateLimitInfo, now: number, backoffMs: number): Limit | null {
  if (info.status !== "rejected") return null;
  const resetsAt = info.resetsAt === undefined ? null : info.resetsAt * 1000;
  return {
    until: plausible(resetsAt, now) ? resetsAt : now + backoffMs,
    window: info.rateLimitType ?? null,
    reason: `${windowWords(info.rateLimitType)} reached`,
  };
}

/** An `allowed_warning` event as the entry records it; null for any other status. */
export function warningOfRateLimit(info: RateLimitInfo, now: number): LimitWarning | null {
  if (info.status !== "allowed_warning") return null;
  return {
    window: info.rateLimitType ?? null,
    utilization: info.utilization ?? null,
    resetsAt: info.resetsAt === undefined ? null : iso(info.resetsAt * 1000),
    at: iso(now),
  };
}

/**
 * Whether an error message says a subscription's usage limit is reached. Claude says "Claude AI
 * usage limit reached|<epoch>" or "You've hit your limit · resets 2pm"; codex "You've hit your
 * usage limit. … try again at 2:05 PM." A passing API rate limit (429) is not one.
 */
export function isUsageLimitMessage(text: string): boolean {
  return /usage limit|hit your (?:[\w-]+ ){0,3}limit|reached your (?:[\w-]+ ){0,3}limit|out of (?:extra )?usage/i.test(
    text,
  );
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

/**
 * The reset instant a limit message gives, or null: an epoch after "|" (claude's older form),
 * "try again in 2 days 3 hours", or a wall-clock time after "try again at" / "resets" — with an
 * optional date ("Dec 5th, 2026 3:05 PM") and zone ("(Europe/Berlin)"), else the next such time
 * in `timeZone`.
 */
export function resetInMessage(text: string, now: number, timeZone: string): number | null {
  const epoch = /\|\s*(\d{10})\b/.exec(text);
  if (epoch) return Number(epoch[1]) * 1000;

  const after = /try again in\s+((?:\d+\s*[a-z]+[\s,]*(?:and\s+)?)+)/i.exec(text);
  if (after) {
    let total = 0;
    for (const [, amount, unit] of (after[1] as string).matchAll(/(\d+)\s*([a-z]+)/gi)) {
      const ms = UNIT_MS[(unit as string).charAt(0).toLowerCase()];
      if (ms) total += Number(amount) * ms;
    }
    return total > 0 ? now + total : null;
  }

  const at =
    /(?:try again at|resets(?: at)?)\s+(?:([a-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(?:(\d{4}),?\s+)?(?:at\s+)?)?(\d{1,2})(?::(\d{2}))?\s*([ap])?\.?m?\.?(?:\s*\(([\w/+-]+)\))?/i.exec(
      text,
    );
  if (!at) return null;
  const [, monthName, dayText, yearText, hourText, minuteText, meridiem, zone] = at;
  let hour = Number(hourText);
  if (hour > 23) return null;
  if (meridiem) {
    if (hour > 12) return null;
    hour = (hour % 12) + (meridiem.toLowerCase() === "p" ? 12 : 0);
  }
  const minute = minuteText ? Number(minuteText) : 0;
  const zoneName = zone && isTimeZone(zone) ? zone : timeZone;
  const today = wallClock(now, zoneName);
  if (monthName) {
    const month = MONTHS.indexOf(monthName.toLowerCase()) + 1;
    if (month === 0) return null;
    const year = yearText ? Number(yearText) : today.year;
    return instantOf({ year, month, day: Number(dayText), hour, minute }, zoneName);
  }
  const todayKey = dayKey(now, zoneName);
  for (const key of [todayKey, addDays(todayKey, 1)]) {
    const [year, month, day] = key.split("-").map(Number) as [number, number, number];
    const instant = instantOf({ year, month, day, hour, minute }, zoneName);
    if (instant > now) return instant;
  }
  return null;
}

/** A "usage limit" error: limited until the reset it names, else for `backoffMs`. Null for other errors. */
export function limitOfMessage(text: string, now: number, backoffMs: number, timeZone: string): Limit | null {
  if (!isUsageLimitMessage(text)) return null;
  const reset = resetInMessage(text, now, timeZone);
  const window = /weekly|seven.day/i.test(text) ? "seven_day" : /five.hour|5.hour/i.test(text) ? "five_hour" : null;
  return {
    until: plausible(reset, now) ? reset : now + backoffMs,
    window,
    reason: `${windowWords(window)} reached`,
  };
}

/**
 * The entry once a limit is known. A later reset than the one recorded wins (two windows used up
 * at once: the backend rests until both are over); an earlier one never shortens a limit.
 */
export function entryWithLimit(entry: BackendHealth, limit: Limit, now: number): BackendHealth {
  const current = entry.limitedUntil ? Date.parse(entry.limitedUntil) : null;
  if (current !== null && current > now && current >= limit.until) return entry;
  return { ...entry, limitedUntil: iso(limit.until), limitReason: limit.reason };
}

/** The entry with a warning recorded (or cleared, when the window is fine again). */
export function entryWithWarning(entry: BackendHealth, warning: LimitWarning | null): BackendHealth {
  if (warning === null && !entry.limitWarning) return entry;
  return { ...entry, limitWarning: warning };
}
