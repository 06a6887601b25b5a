// `npm run bench`: runs every benchmark in one go and writes bench/RESULTS.md.
// Pass names to run a subset: `npm run bench -- durable fanout`.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Benchmark, type BenchRow, renderResults } from "./report.ts";

/** Every benchmark, in report order. Add a new one here. */
const benchmarks: (() => Promise<{ default: Benchmark }>)[] = [
  () => import("./memory.bench.ts"),
  () => import("./startup.bench.ts"),
  () => import("./fanout.bench.ts"),
  () => import("./dashboard.bench.ts"),
  () => import("./prewarm.bench.ts"),
  () => import("./durable.bench.ts"),
  () => import("./voice.bench.ts"),
  () => import("./chat-adapters.bench.ts"),
  () => import("./router.bench.ts"),
];

const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const startedAt = new Date();
const rows: BenchRow[] = [];
const notes: string[] = [];
for (const load of benchmarks) {
  let bench: Benchmark;
  try {
    bench = (await load()).default;
  } catch (error) {
    // One broken module must not cost the report every other benchmark's figures.
    process.stdout.write(`\na benchmark failed to load: ${(error as Error).stack}\n`);
    notes.push(`a benchmark failed to load: ${(error as Error).message}`);
    continue;
  }
  if (only.length > 0 && !only.includes(bench.name)) continue;
  process.stdout.write(`\n## ${bench.name}\n`);
  try {
    const found = await bench.run();
    for (const row of found) {
      process.stdout.write(`${row.name}: ${row.figure} | ${row.comparison} | ${row.ratio} | ${row.target}\n`);
    }
    rows.push(...found);
  } catch (error) {
    process.stdout.write(`failed: ${(error as Error).stack}\n`);
    notes.push(`${bench.name} failed: ${(error as Error).message}`);
  }
}
const path = join(import.meta.dirname, "RESULTS.md");
if (only.length === 0) {
  await writeFile(path, renderResults(rows, startedAt, notes));
  process.stdout.write(`\nwrote ${path}\n`);
}
