// The shape of a benchmark's findings and the RESULTS.md table they become.
import { cpus, loadavg, totalmem } from "node:os";

export interface BenchRow {
  /** What was measured, e.g. "fan-out p99 at 1,000 subscribers". */
  name: string;
  /** The figure for Switchboard, with its unit, e.g. "4.1 ms". */
  figure: string;
  /** The alternative measured in the same run, e.g. "bare ws 3.8 ms"; "—" when none. */
  comparison: string;
  /** figure ÷ comparison (or the reverse, as labelled), e.g. "1.08× of bare ws". */
  ratio: string;
  /** The target and whether it was met, e.g. "≤ 1.25× — met". */
  target: string;
}

export interface Benchmark {
  name: string;
  /** What was found while measuring (a profile's verdict), written under the table. */
  findings?: string[];
  run(): Promise<BenchRow[]>;
}

export function machineLabel(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
}

/** The load average over the last minute, as a sentence part: "load 1.2 on 2 cores". */
export function loadLabel(): string {
  return `load ${(loadavg()[0] ?? 0).toFixed(1)} on ${cpus().length} cores`;
}

export function renderResults(rows: BenchRow[], startedAt: Date, notes: string[], loadAtStart = ""): string {
  const lines = [
    "# Switchboard benchmark results",
    "",
    `Measured ${startedAt.toISOString()} on ${machineLabel()}.`,
    `Machine load (1-minute average) at the start: ${loadAtStart || "not recorded"}; at the end: ${loadLabel()}. ` +
      "A shared machine under load stretches every absolute time; the ratios compare runs made side by side.",
    "Absolute times are from that machine; each comparison was measured in the same run.",
    "",
    "| benchmark | figure | comparison (same run) | ratio | target |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.name} | ${r.figure} | ${r.comparison} | ${r.ratio} | ${r.target} |`),
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ];
  return lines.join("\n");
}

export const ms = (value: number, digits = 2) => `${value.toFixed(digits)} ms`;

/** `values` sorted ascending, as numbers (percentile's input). */
export const sorted = (values: number[]) => Float64Array.from(values).sort() as unknown as number[];

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function verdict(met: boolean): string {
  return met ? "met" : "NOT met";
}
