// Usage as every channel shows it: per backend, today and the last 7 days (runs, tokens, cost),
// and the daily series for a small chart — pure functions of the usage document and the time,
// shared by the dashboard, the CLI `usage` command and Telegram `/usage`.
import type { UsageCounts, UsageDocument } from "../shared/schemas.ts";

export const USAGE_WINDOW_DAYS = 7;

export interface UsageRow {
  backend: string;
  today: UsageCounts;
  week: UsageCounts;
  /** The last 7 days, oldest first, today last (a day with no run has zero counts). */
  days: { day: string; counts: UsageCounts }[];
}

export interface UsageSummary {
  today: string;
  rows: UsageRow[];
  /** Every backend together. */
  todayTotal: UsageCounts;
  weekTotal: UsageCounts;
}

const zero = (): UsageCounts => ({
  runs: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  costUsd: 0,
  turns: 0,
});

function plus(a: UsageCounts, b: UsageCounts): UsageCounts {
  return {
    runs: a.runs + b.runs,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    costUsd: Math.round((a.costUsd + b.costUsd) * 1e6) / 1e6,
    turns: a.turns + b.turns,
  };
}

/** The calendar day (YYYY-MM-DD) of an instant in a time zone; en-CA formats dates that way. */
export function calendarDay(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
}

function daysBefore(day: string, count: number): string[] {
  const [year, month, date] = day.split("-").map(Number) as [number, number, number];
  return Array.from({ length: count }, (_, i) =>
    new Date(Date.UTC(year, month - 1, date - (count - 1 - i))).toISOString().slice(0, 10),
  );
}

/** Today and the last 7 days per backend, in the document's time zone, backends by name. */
export function usageSummary(usage: UsageDocument | null, now: number): UsageSummary {
  const today = calendarDay(now, usage?.timeZone ?? "UTC");
  const window = daysBefore(today, USAGE_WINDOW_DAYS);
  const rows = Object.entries(usage?.backends ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([backend, tally]) => {
      const days = window.map((day) => ({ day, counts: tally.days[day] ?? zero() }));
      return {
        backend,
        today: tally.days[today] ?? zero(),
        week: days.reduce((sum, { counts }) => plus(sum, counts), zero()),
        days,
      };
    });
  return {
    today,
    rows,
    todayTotal: rows.reduce((sum, row) => plus(sum, row.today), zero()),
    weekTotal: rows.reduce((sum, row) => plus(sum, row.week), zero()),
  };
}

/** "$0.02", "$1.25", "$0.0031" (small amounts keep two significant digits), "$0" for none. */
export function costText(usd: number): string {
  if (usd === 0) return "$0";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}

/** "950", "12.3k", "4.1M" tokens. */
export function tokensText(tokens: number): string {
  if (tokens < 1000) return String(tokens);
  if (tokens < 1_000_000) return `${(tokens / 1000).toFixed(tokens < 10_000 ? 1 : 0)}k`;
  return `${(tokens / 1_000_000).toFixed(1)}M`;
}

/** "3 runs, 12.3k in / 950 out tokens, $0.04". */
export function countsText(counts: UsageCounts): string {
  const runs = `${counts.runs} ${counts.runs === 1 ? "run" : "runs"}`;
  if (counts.runs === 0) return "no runs";
  return `${runs}, ${tokensText(counts.inputTokens)} in / ${tokensText(counts.outputTokens)} out tokens, ${costText(counts.costUsd)}`;
}

/** A few lines for a chat (Telegram `/usage`): today and the last 7 days per backend. */
export function usageMessage(usage: UsageDocument | null, now: number): string {
  const summary = usageSummary(usage, now);
  if (summary.rows.length === 0) return "No backend has run anything yet.";
  const lines = [`Usage today (${summary.today}) and in the last ${USAGE_WINDOW_DAYS} days:`];
  for (const row of summary.rows) {
    lines.push(`${row.backend}: today ${countsText(row.today)}; 7 days ${countsText(row.week)}`);
  }
  if (summary.rows.length > 1) {
    lines.push(`All: today ${countsText(summary.todayTotal)}; 7 days ${countsText(summary.weekTotal)}`);
  }
  return lines.join("\n");
}

/** A plain-text table for a terminal (CLI `switchboard usage`). */
export function usageTable(usage: UsageDocument | null, now: number): string {
  const summary = usageSummary(usage, now);
  if (summary.rows.length === 0) return "No backend has run anything yet.";
  const header = ["backend", "runs today", "cost today", "runs 7d", "tokens in 7d", "tokens out 7d", "cost 7d"];
  const line = (name: string, today: UsageCounts, week: UsageCounts) => [
    name,
    String(today.runs),
    costText(today.costUsd),
    String(week.runs),
    tokensText(week.inputTokens),
    tokensText(week.outputTokens),
    costText(week.costUsd),
  ];
  const body = summary.rows.map((row) => line(row.backend, row.today, row.week));
  if (summary.rows.length > 1) body.push(line("all", summary.todayTotal, summary.weekTotal));
  const table = [header, ...body];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => (cells[column] as string).length)));
  return table
    .map((cells) =>
      cells
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[0] as number) : cell.padStart(widths[column] as number),
        )
        .join("  "),
    )
    .join("\n");
}
