// Subscription limits as decisions: what claude's rate_limit_event and the CLIs' "usage limit"
// messages mean, what the health entry becomes, and what the router does — one row per rule.
import { describe, expect, it } from "vitest";
import { emptyEntry } from "../../server/backends/health-entry.ts";
import {
  entryWithLimit,
  entryWithWarning,
  isUsageLimitMessage,
  limitOfMessage,
  limitOfRateLimit,
  resetInMessage,
  warningOfRateLimit,
} from "../../server/backends/limits.ts";
import { claudeRateLimit, type RateLimitInfo } from "../../server/backends/stream-events.ts";
import { limitAction, limitNote, resetTime } from "../../server/router/limit-policy.ts";

const HOUR = 3_600_000;
// 09:00 UTC = 10:00 in Berlin (winter).
const NOW = Date.parse("2026-01-01T09:00:00.000Z");
const BACKOFF = HOUR;
const at = (iso: string) => Date.parse(iso);

describe("claudeRateLimit reads the event shape of the installed CLI", () => {
  it.each<[string, Record<string, unknown>, RateLimitInfo | null]>([
    [
      "a rejected five-hour window",
      {
        type: "rate_limit_event",
        rate_limit_info: {
          status: "rejected",
          resetsAt: 1767265200,
          rateLimitType: "five_hour",
          isUsingOverage: false,
        },
        uuid: "u",
        session_id: "s",
      },
      { status: "rejected", resetsAt: 1767265200, rateLimitType: "five_hour", isUsingOverage: false },
    ],
    [
      "a warning with utilization",
      { type: "rate_limit_event", rate_limit_info: { status: "allowed_warning", utilization: 0.91 } },
      { status: "allowed_warning", utilization: 0.91 },
    ],
    [
      "a field of the wrong type is dropped, not trusted",
      { type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt: "soon" } },
      { status: "rejected" },
    ],
    ["an unknown status is no limit information", { type: "rate_limit_event", rate_limit_info: { status: "x" } }, null],
    ["another event", { type: "assistant", message: {} }, null],
  ])("%s", (_name, event, expected) => {
    const info = claudeRateLimit(event);
    if (expected === null) expect(info).toBeNull();
    else expect(info).toEqual(expected);
  });
});

describe("limitOfRateLimit and warningOfRateLimit", () => {
  it.each<[string, RateLimitInfo, ReturnType<typeof limitOfRateLimit>]>([
    [
      "rejected: limited until resetsAt (epoch seconds), reason naming the window",
      { status: "rejected", resetsAt: NOW / 1000 + 5 * 3600, rateLimitType: "five_hour" },
      { until: NOW + 5 * HOUR, window: "five_hour", reason: "five-hour limit reached" },
    ],
    [
      "rejected weekly",
      { status: "rejected", resetsAt: NOW / 1000 + 48 * 3600, rateLimitType: "seven_day" },
      { until: NOW + 48 * HOUR, window: "seven_day", reason: "weekly limit reached" },
    ],
    [
      "rejected without a reset: the backoff",
      { status: "rejected" },
      { until: NOW + BACKOFF, window: null, reason: "usage limit reached" },
    ],
    [
      "rejected with a reset in the past: the backoff",
      { status: "rejected", resetsAt: NOW / 1000 - 60, rateLimitType: "five_hour" },
      { until: NOW + BACKOFF, window: "five_hour", reason: "five-hour limit reached" },
    ],
    ["allowed: no limit", { status: "allowed" }, null],
    ["allowed_warning: no limit", { status: "allowed_warning", utilization: 0.9 }, null],
  ])("%s", (_name, info, expected) => {
    expect(limitOfRateLimit(info, NOW, BACKOFF)).toEqual(expected);
  });

  it("allowed_warning is recorded with its window, utilization and reset; other statuses record none", () => {
    expect(
      warningOfRateLimit(
        { status: "allowed_warning", utilization: 0.9, rateLimitType: "seven_day", resetsAt: 1767272400 },
        NOW,
      ),
    ).toEqual({
      window: "seven_day",
      utilization: 0.9,
      resetsAt: "2026-01-01T13:00:00.000Z",
      at: "2026-01-01T09:00:00.000Z",
    });
    expect(warningOfRateLimit({ status: "allowed" }, NOW)).toBeNull();
    expect(warningOfRateLimit({ status: "rejected" }, NOW)).toBeNull();
  });
});

describe("usage-limit messages", () => {
  it.each([
    ["Claude AI usage limit reached|1767272400", true],
    ["You've hit your limit · resets 2pm", true],
    ["You've hit your usage limit. Upgrade to Pro or try again at 2:05 PM.", true],
    ["You've reached your weekly limit", true],
    ["429 Too Many Requests: rate limit, retry shortly", false],
    ["claude exited with status 1 before answering", false],
  ])("%s → %s", (text, expected) => {
    expect(isUsageLimitMessage(text)).toBe(expected);
  });

  it.each<[string, string, string, number | null]>([
    [
      "an epoch after | (claude's older form)",
      "Claude AI usage limit reached|1767272400",
      "UTC",
      at("2026-01-01T13:00:00Z"),
    ],
    ["try again in hours and minutes", "try again in 2 hours 30 minutes.", "UTC", NOW + 2.5 * HOUR],
    ["try again in days", "try again in 1 day", "UTC", NOW + 24 * HOUR],
    ["a time later today, in the hub's zone", "or try again at 2:05 PM.", "Europe/Berlin", at("2026-01-01T13:05:00Z")],
    [
      "a time already passed today is tomorrow's",
      "or try again at 9:30 AM.",
      "Europe/Berlin",
      at("2026-01-02T08:30:00Z"),
    ],
    ["claude's short form", "You've hit your limit · resets 2pm", "UTC", at("2026-01-01T14:00:00Z")],
    [
      "a zone named in the message wins",
      "You've hit your limit · resets 2pm (America/New_York)",
      "Europe/Berlin",
      at("2026-01-01T19:00:00Z"),
    ],
    ["a date and time", "try again at Jan 3rd, 2026 3:05 PM.", "UTC", at("2026-01-03T15:05:00Z")],
    ["a 24-hour time", "resets 14:30", "UTC", at("2026-01-01T14:30:00Z")],
    ["no time at all", "You've hit your usage limit.", "UTC", null],
  ])("%s", (_name, text, zone, expected) => {
    expect(resetInMessage(text, NOW, zone)).toBe(expected);
  });

  it.each<[string, string, ReturnType<typeof limitOfMessage>]>([
    [
      "codex with a time: until then",
      "codex reported an error: You've hit your usage limit. Upgrade to Pro or try again in 2 hours.",
      { until: NOW + 2 * HOUR, window: null, reason: "usage limit reached" },
    ],
    [
      "no time given: router.limitBackoffMs",
      "codex reported an error: You've hit your usage limit.",
      { until: NOW + BACKOFF, window: null, reason: "usage limit reached" },
    ],
    [
      "a weekly limit is named",
      "You've reached your weekly limit · resets Jan 3, 9am",
      { until: at("2026-01-03T09:00:00Z"), window: "seven_day", reason: "weekly limit reached" },
    ],
    [
      "a reset further than eight days is not believed",
      "Claude AI usage limit reached|1798761600",
      { until: NOW + BACKOFF, window: null, reason: "usage limit reached" },
    ],
    ["any other error: no limit", "timed out", null],
  ])("%s", (_name, text, expected) => {
    expect(limitOfMessage(text, NOW, BACKOFF, "UTC")).toEqual(expected);
  });
});

describe("the entry a limit makes", () => {
  const limit = { until: NOW + 2 * HOUR, window: "five_hour", reason: "five-hour limit reached" };
  it("records limitedUntil and the reason", () => {
    expect(entryWithLimit(emptyEntry("claude"), limit, NOW)).toMatchObject({
      limitedUntil: "2026-01-01T11:00:00.000Z",
      limitReason: "five-hour limit reached",
    });
  });
  it("a later reset extends the limit; an earlier one never shortens it", () => {
    const limited = entryWithLimit(emptyEntry("claude"), limit, NOW);
    const later = { until: NOW + 48 * HOUR, window: "seven_day", reason: "weekly limit reached" };
    expect(entryWithLimit(limited, later, NOW).limitedUntil).toBe("2026-01-03T09:00:00.000Z");
    const earlier = { until: NOW + HOUR, window: null, reason: "usage limit reached" };
    expect(entryWithLimit(limited, earlier, NOW)).toBe(limited);
  });
  it("a limit that has ended is replaced by a new one, even an earlier reset", () => {
    const old = entryWithLimit(emptyEntry("claude"), { ...limit, until: NOW - 8 * HOUR }, NOW - 10 * HOUR);
    const fresh = { until: NOW + HOUR, window: null, reason: "usage limit reached" };
    expect(entryWithLimit(old, fresh, NOW).limitedUntil).toBe("2026-01-01T10:00:00.000Z");
  });
  it("a warning is recorded and cleared", () => {
    const warning = { window: "five_hour", utilization: 0.9, resetsAt: null, at: "2026-01-01T09:00:00.000Z" };
    const warned = entryWithWarning(emptyEntry("claude"), warning);
    expect(warned.limitWarning).toEqual(warning);
    expect(entryWithWarning(warned, null).limitWarning).toBeNull();
    const plain = emptyEntry("claude");
    expect(entryWithWarning(plain, null)).toBe(plain);
  });
});

describe("what the router does with a limit", () => {
  const until = NOW + 2 * HOUR;
  it.each([
    ["fallback with another backend: move", "fallback", "codex", { action: "move", backend: "codex" }],
    ["fallback with none: wait for the reset", "fallback", null, { action: "wait", until }],
    ["wait: wait even when another could take it", "wait", "codex", { action: "wait", until }],
  ] as const)("%s", (_name, policy, alternative, expected) => {
    expect(limitAction({ policy, until, alternative })).toEqual(expected);
  });

  it.each([
    ["a reset today reads as a time", until, "UTC", "11:00"],
    ["in the hub's zone", until, "Europe/Berlin", "12:00"],
    ["a reset another day gains its date", NOW + 30 * HOUR, "UTC", "2026-01-02 15:00"],
  ])("%s", (_name, instant, zone, expected) => {
    expect(resetTime(instant, NOW, zone)).toBe(expected);
  });

  it("says what happened in the task's lastUpdate", () => {
    expect(limitNote("claude", { action: "move", backend: "codex" }, "14:05")).toBe(
      "Claude is limited until 14:05; continuing on codex",
    );
    expect(limitNote("codex", { action: "wait", until }, "14:05")).toBe("Codex is limited until 14:05; waiting for it");
  });
});
