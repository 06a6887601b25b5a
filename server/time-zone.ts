// Calendar days and wall-clock times in a named time zone (IANA), with the platform's Intl and
// no tables of our own: the usage document's day keys and the reset times limit messages give
// ("try again at 2:05 PM") are both in the hub's own zone.
import { readlinkSync } from "node:fs";

let processTimeZone: string | undefined;

/**
 * The hub's time zone, as the process sees it (TZ, else the system's); asked of Intl once, and
 * not at all on a machine set to UTC (see UTC_NAMES).
 */
export function localTimeZone(): string {
  processTimeZone ??= isSetToUtc() ? "UTC" : Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  return processTimeZone;
}

/** TZ names UTC, or is unset and /etc/localtime links to UTC's zone file. */
function isSetToUtc(): boolean {
  const tz = process.env.TZ;
  if (tz !== undefined) return UTC_NAMES.has(tz.replace(/^:/, ""));
  try {
    const zone = /zoneinfo\/(.+)$/.exec(readlinkSync("/etc/localtime"))?.[1];
    return zone !== undefined && UTC_NAMES.has(zone);
  } catch {
    return false;
  }
}

/** Whether Intl knows this zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export interface WallClock {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * Names of UTC itself. Its wall clock is Date's UTC fields: no Intl, whose first use costs a hub
 * on a UTC machine (most servers) tens of milliseconds of its start-up.
 */
const UTC_NAMES = new Set([
  "UTC",
  "Etc/UTC",
  "GMT",
  "Etc/GMT",
  "UCT",
  "Etc/UCT",
  "Universal",
  "Etc/Universal",
  "Zulu",
  "Etc/Zulu",
]);

/** What a wall clock in `timeZone` shows at instant `ms`. */
export function wallClock(ms: number, timeZone: string): WallClock {
  if (UTC_NAMES.has(timeZone)) {
    const at = new Date(ms);
    return {
      year: at.getUTCFullYear(),
      month: at.getUTCMonth() + 1,
      day: at.getUTCDate(),
      hour: at.getUTCHours(),
      minute: at.getUTCMinutes(),
      second: at.getUTCSeconds(),
    };
  }
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(ms)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
  };
}

/** The calendar day of instant `ms` in `timeZone`, as YYYY-MM-DD. */
export function dayKey(ms: number, timeZone: string): string {
  const { year, month, day } = wallClock(ms, timeZone);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** The day `days` after (or before) a YYYY-MM-DD day. */
export function addDays(key: string, days: number): string {
  const [year, month, day] = key.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** The instant a wall clock in `timeZone` shows the given time (the earlier one in a DST fold). */
export function instantOf(time: Omit<WallClock, "second"> & { second?: number }, timeZone: string): number {
  const asUtc = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second ?? 0);
  const offsetAt = (ms: number) => {
    const shown = wallClock(ms, timeZone);
    return (
      Date.UTC(shown.year, shown.month - 1, shown.day, shown.hour, shown.minute, shown.second) -
      Math.floor(ms / 1000) * 1000
    );
  };
  const first = asUtc - offsetAt(asUtc);
  return asUtc - offsetAt(first);
}
