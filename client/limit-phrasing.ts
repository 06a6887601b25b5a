// Limit phrasing, part of the shared phrasing (phrasing.ts) used by every channel: a backend
// resting for a used-up subscription window, when it is usable again, and the announcements
// when a limit begins and ends. Pure functions of the health entry and the time.
import type { BackendHealth } from "../shared/schemas.ts";

/** A moment as the callers hold it: a Date, epoch milliseconds, or an ISO string. */
type Moment = Date | number | string;

const millis = (moment: Moment): number =>
  typeof moment === "number" ? moment : typeof moment === "string" ? Date.parse(moment) : moment.getTime();

/**
 * A clock time as a person says it, in `timeZone` (the reader's own by default): "14:05" on the
 * same day as `now` (or with no `now`), "Jan 3, 14:05" on another.
 */
export function clockTime(moment: Moment, now?: Moment, timeZone?: string): string {
  const zone = timeZone ? { timeZone } : {};
  const time = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    ...zone,
  }).format(millis(moment));
  if (now === undefined) return time;
  const day = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric", ...zone });
  const [then, today] = [day.format(millis(moment)), day.format(millis(now))];
  return then === today ? time : `${then}, ${time}`;
}

/** A backend's name as the subject of a sentence: "Claude", "Codex". */
const backendName = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** "Claude is resting until 14:05 (five-hour limit reached)": a limited backend, when it is usable again. */
export function restingSentence(
  name: string,
  entry: Pick<BackendHealth, "limitedUntil" | "limitReason">,
  now?: Moment,
  timeZone?: string,
): string {
  const until = entry.limitedUntil ? ` until ${clockTime(entry.limitedUntil, now, timeZone)}` : "";
  const why = entry.limitReason ? ` (${entry.limitReason})` : "";
  return `${backendName(name)} is resting${until}${why}`;
}

/**
 * What the channels announce when a backend's limit begins or ends, once per change: "Claude is
 * resting until 14:05 (five-hour limit reached)", "Claude is available again". Null for any
 * other change (and for a backend seen for the first time).
 */
export function limitAnnouncement(
  event: { backend: string; entry: BackendHealth; previous: BackendHealth | null },
  now?: Moment,
  timeZone?: string,
): string | null {
  if (!event.previous) return null;
  const was = event.previous.status === "limited";
  const is = event.entry.status === "limited";
  if (is && !was) return restingSentence(event.backend, event.entry, now, timeZone);
  if (was && !is) return `${backendName(event.backend)} is available again`;
  return null;
}
