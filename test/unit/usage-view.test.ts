// How usage and limits read on every channel: the 7-day summary, the CLI table, the Telegram
// message, the dashboard's usage panel and limited backend, and the limit announcements.
import { describe, expect, it } from "vitest";
import { backendItem, usageItems } from "../../client/dashboard/view-model.ts";
import { clockTime, limitAnnouncement, restingSentence } from "../../client/limit-phrasing.ts";
import { healthSentence } from "../../client/phrasing.ts";
import { costText, tokensText, usageMessage, usageSummary, usageTable } from "../../client/usage-view.ts";
import { emptyEntry } from "../../server/backends/health-entry.ts";
import type { BackendHealth, UsageCounts, UsageDocument } from "../../shared/schemas.ts";

const NOW = Date.parse("2026-01-07T12:00:00.000Z");
const counts = (runs: number, costUsd: number, inputTokens = 1000 * runs, outputTokens = 200 * runs): UsageCounts => ({
  runs,
  inputTokens,
  outputTokens,
  cacheReadTokens: 0,
  costUsd,
  turns: runs,
});
const usage: UsageDocument = {
  lastUpdated: "2026-01-07T11:00:00.000Z",
  timeZone: "UTC",
  backends: {
    claude: {
      total: counts(9, 0.9),
      days: {
        "2025-12-31": counts(5, 0.5), // eight days ago: outside the 7-day window
        "2026-01-02": counts(1, 0.1),
        "2026-01-07": counts(3, 0.3),
      },
    },
    codex: { total: counts(2, 0), days: { "2026-01-06": counts(2, 0) } },
  },
  total: counts(11, 0.9),
};

describe("usageSummary", () => {
  it("today and the last 7 days per backend, with a zero for days without runs", () => {
    const summary = usageSummary(usage, NOW);
    expect(summary.today).toBe("2026-01-07");
    const claude = summary.rows[0];
    expect(claude?.backend).toBe("claude");
    expect(claude?.today).toEqual(counts(3, 0.3));
    expect(claude?.week).toEqual(counts(4, 0.4));
    expect(claude?.days.map((d) => d.day)).toEqual([
      "2026-01-01",
      "2026-01-02",
      "2026-01-03",
      "2026-01-04",
      "2026-01-05",
      "2026-01-06",
      "2026-01-07",
    ]);
    expect(summary.rows[1]?.today.runs).toBe(0);
    expect(summary.weekTotal).toEqual(counts(6, 0.4));
  });

  it("today is the document's calendar day, not UTC's", () => {
    const berlin = { ...usage, timeZone: "Europe/Berlin" };
    // 23:30 UTC on Jan 6 is already Jan 7 in Berlin.
    expect(usageSummary(berlin, Date.parse("2026-01-06T23:30:00Z")).today).toBe("2026-01-07");
  });
});

describe("usage in words", () => {
  it.each([
    [0, "$0"],
    [0.0031, "$0.0031"],
    [0.3, "$0.30"],
    [12.5, "$12.50"],
  ])("cost %s → %s", (usd, text) => expect(costText(usd)).toBe(text));
  it.each([
    [950, "950"],
    [1234, "1.2k"],
    [45_600, "46k"],
    [4_100_000, "4.1M"],
  ])("tokens %s → %s", (n, text) => expect(tokensText(n)).toBe(text));

  it("the CLI table: a row per backend and one for all, aligned", () => {
    expect(usageTable(usage, NOW).split("\n")).toEqual([
      "backend  runs today  cost today  runs 7d  tokens in 7d  tokens out 7d  cost 7d",
      "claude            3       $0.30        4          4.0k            800    $0.40",
      "codex             0          $0        2          2.0k            400       $0",
      "all               3       $0.30        6          6.0k           1.2k    $0.40",
    ]);
  });

  it("Telegram's /usage message", () => {
    expect(usageMessage(usage, NOW)).toBe(
      [
        "Usage today (2026-01-07) and in the last 7 days:",
        "claude: today 3 runs, 3.0k in / 600 out tokens, $0.30; 7 days 4 runs, 4.0k in / 800 out tokens, $0.40",
        "codex: today no runs; 7 days 2 runs, 2.0k in / 400 out tokens, $0",
        "All: today 3 runs, 3.0k in / 600 out tokens, $0.30; 7 days 6 runs, 6.0k in / 1.2k out tokens, $0.40",
      ].join("\n"),
    );
    expect(usageMessage(null, NOW)).toBe("No backend has run anything yet.");
  });

  it("the dashboard's usage panel: bars scaled to the busiest day of any backend", () => {
    const [claude, codex] = usageItems(usage, new Date(NOW));
    expect(claude?.todayText).toBe("today: 3 runs, 3.0k in / 600 out tokens, $0.30");
    expect(claude?.weekText).toBe("7 days: 4 runs, 4.0k in / 800 out tokens, $0.40");
    expect(claude?.bars.map((b) => b.heightPercent)).toEqual([0, 33, 0, 0, 0, 0, 100]);
    expect(codex?.bars.map((b) => b.heightPercent)).toEqual([0, 0, 0, 0, 0, 67, 0]);
    expect(claude?.bars[6]?.label).toBe("2026-01-07: 3 runs, 3.6k tokens, $0.30");
  });
});

describe("limits in words", () => {
  const limited = (until: string): BackendHealth => ({
    ...emptyEntry("claude"),
    status: "limited",
    limitedUntil: until,
    limitReason: "five-hour limit reached",
  });

  it("a clock time: the time alone today, with the date another day", () => {
    expect(clockTime("2026-01-07T14:05:00Z", NOW, "UTC")).toBe("14:05");
    expect(clockTime("2026-01-07T14:05:00Z", NOW, "Europe/Berlin")).toBe("15:05");
    expect(clockTime("2026-01-08T09:00:00Z", NOW, "UTC")).toBe("Jan 8, 09:00");
  });

  it("Claude is resting until 14:05, and why", () => {
    expect(restingSentence("claude", limited("2026-01-07T14:05:00Z"), NOW, "UTC")).toBe(
      "Claude is resting until 14:05 (five-hour limit reached)",
    );
  });

  it.each<[string, BackendHealth["status"] | null, BackendHealth["status"], string | null]>([
    ["becoming limited is announced", "warm", "limited", "Claude is resting until 14:05 (five-hour limit reached)"],
    ["being limited again (a ping while limited) is not", "limited", "limited", null],
    ["the end of the limit is announced", "limited", "cold", "Claude is available again"],
    ["other changes are not", "warm", "healthy", null],
    ["a backend seen for the first time is not", null, "limited", null],
  ])("%s", (_name, before, after, expected) => {
    const entry = { ...limited("2026-01-07T14:05:00Z"), status: after };
    const previous = before === null ? null : { ...emptyEntry("claude"), status: before };
    expect(limitAnnouncement({ backend: "claude", entry, previous }, NOW, "UTC")).toBe(expected);
  });

  it("the health sentence names the limited backend with its time", () => {
    const health = {
      backends: { claude: limited("2026-01-07T14:05:00Z"), codex: { ...emptyEntry("codex"), status: "warm" as const } },
    };
    expect(healthSentence(health, NOW, "UTC")).toBe(
      "codex is warm; Claude is resting until 14:05 (five-hour limit reached)",
    );
  });

  it("the dashboard says until when and why", () => {
    const item = backendItem("claude", limited("2026-01-07T14:05:00Z"), new Date(NOW));
    expect(item.status).toBe("limited");
    expect(item.statusLabel).toBe(`limited until ${clockTime("2026-01-07T14:05:00Z", NOW)}`);
    expect(item.reasonText).toBe("five-hour limit reached");
  });
});
