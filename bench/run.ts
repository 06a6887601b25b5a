// `npm run bench`: runs every benchmark in one go and writes bench/RESULTS.md.
// Pass names to run a subset: `npm run bench -- durable fanout` (prints only).
// Each benchmark runs in a fresh process of its own, so one's heap, sockets and timers never
// weigh on the next one's figures.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Benchmark, type BenchRow, loadLabel, renderResults } from "./report.ts";

/** Every benchmark, in report order. Add a new one here. */
const benchmarks: (() => Promise<{ default: Benchmark }>)[] = [
  () => import("./memory.bench.ts"),
  () => import("./startup.bench.ts"),
  () => import("./cli.bench.ts"),
  () => import("./fanout.bench.ts"),
  () => import("./fanout-10k.bench.ts"),
  () => import("./dashboard.bench.ts"),
  () => import("./prewarm.bench.ts"),
  () => import("./durable.bench.ts"),
  () => import("./voice.bench.ts"),
  () => import("./chat-adapters.bench.ts"),
  () => import("./router.bench.ts"),
  () => import("./cluster.bench.ts"),
  () => import("./conversation.bench.ts"),
];

interface Outcome {
  rows: BenchRow[];
  notes: string[];
}

/** In a child process: runs benchmark `index` (when `only` names it or is empty) and writes its outcome to `out`. */
async function runOne(index: number, only: string[], out: string): Promise<void> {
  const outcome: Outcome = { rows: [], notes: [] };
  try {
    const bench = (await (benchmarks[index] as () => Promise<{ default: Benchmark }>)()).default;
    if (only.length === 0 || only.includes(bench.name)) {
      process.stdout.write(`\n## ${bench.name}\n`);
      try {
        outcome.rows = await bench.run();
        outcome.notes.push(...(bench.findings ?? []));
        for (const row of outcome.rows) {
          process.stdout.write(`${row.name}: ${row.figure} | ${row.comparison} | ${row.ratio} | ${row.target}\n`);
        }
      } catch (error) {
        process.stdout.write(`failed: ${(error as Error).stack}\n`);
        outcome.notes.push(`${bench.name} failed: ${(error as Error).message}`);
      }
    }
  } catch (error) {
    // One broken module must not cost the report every other benchmark's figures.
    process.stdout.write(`\na benchmark failed to load: ${(error as Error).stack}\n`);
    outcome.notes.push(`a benchmark failed to load: ${(error as Error).message}`);
  }
  await writeFile(out, JSON.stringify(outcome));
}

// `run.ts [NAME …] --child INDEX OUT` is how this script runs one benchmark in a child.
const args = process.argv.slice(2);
const childAt = args.indexOf("--child");
const only = (childAt >= 0 ? args.slice(0, childAt) : args).filter((a) => !a.startsWith("-"));
if (childAt >= 0) {
  await runOne(Number(args[childAt + 1]), only, args[childAt + 2] as string);
  process.exit(0);
}

const startedAt = new Date();
const loadAtStart = loadLabel();
const rows: BenchRow[] = [];
const notes: string[] = [];
const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-"));
try {
  for (let index = 0; index < benchmarks.length; index++) {
    const out = join(dir, `${index}.json`);
    const child = spawn(
      process.execPath,
      ["--import", "tsx", import.meta.filename, ...only, "--child", String(index), out],
      { stdio: "inherit" },
    );
    const [code] = await once(child, "exit");
    const outcome = JSON.parse(await readFile(out, "utf8").catch(() => "null")) as Outcome | null;
    if (!outcome) {
      notes.push(`benchmark ${index + 1} exited with ${code} before reporting`);
      continue;
    }
    rows.push(...outcome.rows);
    notes.push(...outcome.notes);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (only.length === 0) {
  const path = join(import.meta.dirname, "RESULTS.md");
  await writeFile(path, renderResults(rows, startedAt, notes, loadAtStart));
  process.stdout.write(`\nwrote ${path}\n`);
}
