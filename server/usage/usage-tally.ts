// The usage document's arithmetic: a run's usage added to its backend's day, the backend's total
// and the grand total; days older than the last 30 dropped. Pure; the day of a run is its
// calendar day in the hub's time zone.

import { iso } from "../../shared/clock.ts";
import type { Usage, UsageCounts, UsageDocument } from "../../shared/schemas.ts";
import { roundUsd } from "../backends/stream-events.ts";
import { addDays, dayKey, wallClock } from "../time-zone.ts";

/** How many calendar days, today included, the document keeps per backend. */
export const USAGE_DAYS = 30;

export function emptyCounts(): UsageCounts {
  return { runs: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, costUsd: 0, turns: 0 };
}

export function emptyUsageDocument(now: number, timeZone: string): UsageDocument {
  return { lastUpdated: iso(now), timeZone, backends: {}, total: emptyCounts() };
}

export function addRun(counts: UsageCounts, usage: Usage): UsageCounts {
  return {
    runs: counts.runs + 1,
    inputTokens: counts.inputTokens + usage.inputTokens,
    outputTokens: counts.outputTokens + usage.outputTokens,
    cacheReadTokens: counts.cacheReadTokens + (usage.cacheReadTokens ?? 0),
    costUsd: roundUsd(counts.costUsd + usage.costUsd),
    turns: counts.turns + usage.turns,
  };
}

/** The first day kept on day `today`: 29 days before it. */
export const firstKeptDay = (today: string): string => addDays(today, -(USAGE_DAYS - 1));

/** Drops every backend's days before the last 30 (as of `now`); the same document when none is due. */
export function pruneDays(document: UsageDocument, now: number): UsageDocument {
  const first = firstKeptDay(dayKey(now, document.timeZone));
  let changed = false;
  const backends: UsageDocument["backends"] = {};
  for (const [name, backend] of Object.entries(document.backends)) {
    const kept = Object.entries(backend.days).filter(([day]) => day >= first);
    if (kept.length === Object.keys(backend.days).length) {
      backends[name] = backend;
      continue;
    }
    changed = true;
    backends[name] = { ...backend, days: Object.fromEntries(kept) };
  }
  return changed ? { ...document, lastUpdated: iso(now), backends } : document;
}

/** The document with one run of `backend` at `now` added (and old days dropped). */
export function recordRun(document: UsageDocument, backend: string, usage: Usage, now: number): UsageDocument {
  const day = dayKey(now, document.timeZone);
  const current = document.backends[backend] ?? { total: emptyCounts(), days: {} };
  const next: UsageDocument = {
    ...document,
    lastUpdated: iso(now),
    backends: {
      ...document.backends,
      [backend]: {
        total: addRun(current.total, usage),
        days: { ...current.days, [day]: addRun(current.days[day] ?? emptyCounts(), usage) },
      },
    },
    total: addRun(document.total, usage),
  };
  return pruneDays(next, now);
}

/** When the next calendar day starts in the document's zone: the moment old days may need dropping. */
export function nextDayStart(now: number, timeZone: string): number {
  const today = dayKey(now, timeZone);
  // Most days, midnight is what is left of today's wall-clock day away; checked, since a day with
  // a DST change is shorter or longer (a hub's start-up runs this, and each check costs Intl).
  const clock = wallClock(now, timeZone);
  const left = 86_400_000 - ((clock.hour * 60 + clock.minute) * 60 + clock.second) * 1000 - (now % 1000);
  if (dayKey(now + left, timeZone) !== today && dayKey(now + left - 1, timeZone) === today) return now + left;
  // Otherwise midnight is found by stepping: zones with odd offsets and DST make arithmetic unsafe.
  let low = now;
  let high = now + 26 * 3_600_000;
  while (high - low > 1000) {
    const mid = Math.floor((low + high) / 2);
    if (dayKey(mid, timeZone) === today) low = mid;
    else high = mid;
  }
  return high;
}
