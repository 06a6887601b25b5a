// The usage readers and the usage document's arithmetic: what each backend reports, a task's
// sum over runs, and the per-day tally with its day boundaries (in the hub's zone) and 30 days.
import { describe, expect, it } from "vitest";
import { addUsage, claudeResultUsage, codexTurnUsage, ollamaUsage } from "../../server/backends/stream-events.ts";
import { emptyUsageDocument, nextDayStart, pruneDays, recordRun, USAGE_DAYS } from "../../server/usage/usage-tally.ts";
import type { Usage } from "../../shared/schemas.ts";

const run = (costUsd: number, inputTokens = 100, outputTokens = 20): Usage => ({
  costUsd,
  inputTokens,
  outputTokens,
  cacheReadTokens: 50,
  turns: 1,
});

describe("what each backend reports", () => {
  it.each<[string, unknown, Usage | null]>([
    [
      "claude's result: cost, tokens (cache writes count as input), cache reads, turns",
      {
        type: "result",
        subtype: "success",
        total_cost_usd: 0.0123,
        num_turns: 3,
        usage: { input_tokens: 100, cache_creation_input_tokens: 10, cache_read_input_tokens: 50, output_tokens: 20 },
      },
      { costUsd: 0.0123, inputTokens: 110, outputTokens: 20, cacheReadTokens: 50, turns: 3 },
    ],
    [
      "claude's error result still reports its cost",
      { type: "result", subtype: "error_during_execution", is_error: true, total_cost_usd: 0.5, usage: {} },
      { costUsd: 0.5, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, turns: 1 },
    ],
    ["a result with no usage at all", { type: "result", subtype: "success", result: "hi" }, null],
    [
      "a negative or non-number field counts as 0",
      { type: "result", total_cost_usd: -3, usage: { input_tokens: "many", output_tokens: 5 } },
      { costUsd: 0, inputTokens: 0, outputTokens: 5, cacheReadTokens: 0, turns: 1 },
    ],
  ])("%s", (_name, event, expected) => {
    expect(claudeResultUsage(event as Record<string, unknown>)).toEqual(expected);
  });

  it("codex's turn.completed: no cost, cached input counted apart", () => {
    expect(
      codexTurnUsage({
        type: "turn.completed",
        usage: { input_tokens: 120, cached_input_tokens: 20, output_tokens: 30 },
      }),
    ).toEqual({ costUsd: 0, inputTokens: 100, outputTokens: 30, cacheReadTokens: 20, turns: 1 });
    expect(codexTurnUsage({ type: "turn.started" })).toBeNull();
  });

  it("Ollama's last chunk: prompt and generated token counts", () => {
    expect(ollamaUsage({ done: true, prompt_eval_count: 40, eval_count: 12, eval_duration: 3 })).toEqual({
      costUsd: 0,
      inputTokens: 40,
      outputTokens: 12,
      turns: 1,
    });
    expect(ollamaUsage({ done: false, response: "x" })).toBeNull();
  });

  it("a task's usage is the sum of its runs, dollars without floating-point dust", () => {
    const sum = [run(0.1), run(0.2), { costUsd: 0, inputTokens: 40, outputTokens: 12, turns: 1 }].reduce<
      Usage | undefined
    >((total, next) => addUsage(total, next), undefined);
    expect(sum).toEqual({ costUsd: 0.3, inputTokens: 240, outputTokens: 52, cacheReadTokens: 100, turns: 3 });
    expect(addUsage(undefined, { costUsd: 0, inputTokens: 1, outputTokens: 1, turns: 1 })).not.toHaveProperty(
      "cacheReadTokens",
    );
  });
});

describe("the usage document", () => {
  const T = (iso: string) => Date.parse(iso);

  it("a run is added to its backend's day, the backend's total and the grand total", () => {
    let doc = emptyUsageDocument(T("2026-01-01T09:00:00Z"), "UTC");
    doc = recordRun(doc, "claude", run(0.01), T("2026-01-01T09:00:00Z"));
    doc = recordRun(doc, "claude", run(0.02), T("2026-01-01T10:00:00Z"));
    doc = recordRun(doc, "codex", run(0, 120, 30), T("2026-01-01T11:00:00Z"));
    expect(doc.backends.claude).toEqual({
      total: { runs: 2, inputTokens: 200, outputTokens: 40, cacheReadTokens: 100, costUsd: 0.03, turns: 2 },
      days: {
        "2026-01-01": { runs: 2, inputTokens: 200, outputTokens: 40, cacheReadTokens: 100, costUsd: 0.03, turns: 2 },
      },
    });
    expect(doc.total).toEqual({
      runs: 3,
      inputTokens: 320,
      outputTokens: 70,
      cacheReadTokens: 150,
      costUsd: 0.03,
      turns: 3,
    });
    expect(doc.lastUpdated).toBe("2026-01-01T11:00:00.000Z");
  });

  it.each([
    ["one millisecond before midnight UTC is still that day", "UTC", "2026-01-01T23:59:59.999Z", "2026-01-01"],
    ["midnight UTC starts the next day", "UTC", "2026-01-02T00:00:00.000Z", "2026-01-02"],
    ["23:30 UTC is already tomorrow in Berlin", "Europe/Berlin", "2026-01-01T23:30:00.000Z", "2026-01-02"],
    ["03:00 UTC is still yesterday in New York", "America/New_York", "2026-01-02T03:00:00.000Z", "2026-01-01"],
  ])("day boundaries: %s", (_name, zone, instant, day) => {
    const doc = recordRun(emptyUsageDocument(0, zone), "claude", run(0.01), T(instant));
    expect(Object.keys(doc.backends.claude?.days ?? {})).toEqual([day]);
  });

  it(`keeps the last ${USAGE_DAYS} days (today included) and every run in the totals`, () => {
    let doc = emptyUsageDocument(0, "UTC");
    doc = recordRun(doc, "claude", run(1), T("2026-01-01T12:00:00Z"));
    doc = recordRun(doc, "claude", run(1), T("2026-01-02T12:00:00Z"));
    // Day 30 counted from Jan 1 is Jan 30: Jan 1 is still kept.
    doc = recordRun(doc, "claude", run(1), T("2026-01-30T12:00:00Z"));
    expect(Object.keys(doc.backends.claude?.days ?? {})).toEqual(["2026-01-01", "2026-01-02", "2026-01-30"]);
    // On Jan 31 it is dropped; the total keeps all three runs.
    doc = recordRun(doc, "claude", run(1), T("2026-01-31T00:00:00Z"));
    expect(Object.keys(doc.backends.claude?.days ?? {})).toEqual(["2026-01-02", "2026-01-30", "2026-01-31"]);
    expect(doc.backends.claude?.total.runs).toBe(4);
    expect(doc.total.costUsd).toBe(4);
  });

  it("pruning with nothing out of range returns the same document (no version, no write)", () => {
    const doc = recordRun(emptyUsageDocument(0, "UTC"), "claude", run(1), T("2026-01-01T12:00:00Z"));
    expect(pruneDays(doc, T("2026-01-10T00:00:00Z"))).toBe(doc);
    expect(pruneDays(doc, T("2026-02-10T00:00:00Z")).backends.claude?.days).toEqual({});
  });

  it.each([
    ["UTC", "2026-01-01T09:00:00Z", "2026-01-02T00:00:00.000Z"],
    ["Europe/Berlin", "2026-01-01T09:00:00Z", "2026-01-01T23:00:00.000Z"],
    ["Europe/Berlin, on the day the clocks go forward", "2026-03-28T23:30:00Z", "2026-03-29T22:00:00.000Z"],
    ["Europe/Berlin, on the day the clocks go back", "2026-10-24T22:30:00Z", "2026-10-25T23:00:00.000Z"],
    ["Asia/Kolkata, a half-hour offset, mid-second", "2026-01-01T09:00:00.250Z", "2026-01-01T18:30:00.000Z"],
  ])("the next day starts (%s)", (zone, now, expected) => {
    const name = zone.split(",")[0] as string;
    const start = nextDayStart(T(now), name);
    // Within the second the search resolves to.
    expect(Math.abs(start - T(expected))).toBeLessThanOrEqual(1000);
  });
});
