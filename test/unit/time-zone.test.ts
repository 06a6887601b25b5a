// Wall clocks in a named zone: UTC's comes from Date's UTC fields (no Intl at a hub's start-up),
// and must be exactly what Intl gives for a zone that is UTC under another name.
import { describe, expect, it } from "vitest";
import { dayKey, localTimeZone, wallClock } from "../../server/time-zone.ts";

const instants = [
  "2026-01-01T00:00:00.000Z",
  "2026-02-28T23:59:59.999Z",
  "2028-02-29T12:34:56.789Z",
  "2026-12-31T23:59:59.000Z",
  "1999-12-31T23:59:59.500Z",
];

describe("wall clock", () => {
  it.each(instants)("UTC at %s reads as Intl reads Etc/GMT+0", (instant) => {
    const ms = Date.parse(instant);
    expect(wallClock(ms, "UTC")).toEqual(wallClock(ms, "Etc/GMT+0"));
    expect(wallClock(ms, "Etc/UTC")).toEqual(wallClock(ms, "Etc/GMT+0"));
  });

  it("a named zone still goes through Intl: Berlin is an hour ahead in winter", () => {
    const ms = Date.parse("2026-01-01T23:30:00Z");
    expect(wallClock(ms, "Europe/Berlin")).toEqual({ year: 2026, month: 1, day: 2, hour: 0, minute: 30, second: 0 });
    expect(dayKey(ms, "UTC")).toBe("2026-01-01");
    expect(dayKey(ms, "Europe/Berlin")).toBe("2026-01-02");
  });

  it("the hub's own zone (found without Intl on a machine set to UTC) shows the wall clock Intl's local zone shows", () => {
    const intlZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (const instant of instants) {
      const ms = Date.parse(instant);
      expect(wallClock(ms, localTimeZone())).toEqual(wallClock(ms, intlZone));
    }
  });
});
