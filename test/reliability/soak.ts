// `npm run soak [-- --minutes N]`: the hub under steady mixed load with reconnecting clients for
// minutes (not part of `npm test`). Samples the hub's RSS, event-loop delay and open file
// descriptors, prints them, and ends with a verdict on whether they stayed flat (exit 1 if not).

import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { parseConfig } from "../../server/config.ts";
import { createLogger } from "../../server/log.ts";
import { startHub } from "../../server/start.ts";

const { values } = parseArgs({
  options: { minutes: { type: "string", default: "5" }, "sample-seconds": { type: "string", default: "10" } },
});
const minutes = Number(values.minutes);
const sampleMs = Number(values["sample-seconds"]) * 1000;
if (!(minutes > 0) || !(sampleMs > 0)) {
  process.stderr.write("usage: npm run soak -- [--minutes 5] [--sample-seconds 10] (both positive numbers)\n");
  process.exit(2);
}

const dataDir = await mkdtemp(join(tmpdir(), "switchboard-soak-"));
const config = parseConfig({ port: 0, dataDir, logLevel: "warn", hub: { heartbeatIntervalMs: 5000 } });
const hub = await startHub({ config, secrets: { token: null }, logger: createLogger("warn") });
const load = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "soak-load.ts"), hub.url], {
  stdio: ["ignore", "pipe", "inherit"],
});
let lastCounts = "";
load.stdout.on("data", (chunk) => {
  lastCounts = String(chunk).trim().split("\n").at(-1) ?? lastCounts;
});

interface Sample {
  at: number;
  rssMb: number;
  heapMb: number;
  loopP99Ms: number;
  fds: number;
  clients: number;
}

const openFds = async () => (await readdir("/proc/self/fd").catch(() => [])).length;
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const samples: Sample[] = [];
const started = Date.now();
process.stdout.write(`soak: ${minutes} min against ${hub.url}, sampling every ${sampleMs / 1000} s\n`);
process.stdout.write("  t(s)   RSS MB  heap MB  loop p99 ms  fds  clients  load\n");

while (Date.now() - started < minutes * 60_000) {
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const memory = process.memoryUsage();
  const sample: Sample = {
    at: Math.round((Date.now() - started) / 1000),
    rssMb: memory.rss / 2 ** 20,
    heapMb: memory.heapUsed / 2 ** 20,
    loopP99Ms: loop.percentile(99) / 1e6,
    fds: await openFds(),
    clients: hub.hub.broadcaster.clientCount,
  };
  loop.reset();
  samples.push(sample);
  process.stdout.write(
    `${String(sample.at).padStart(6)} ${sample.rssMb.toFixed(1).padStart(8)} ${sample.heapMb.toFixed(1).padStart(8)} ` +
      `${sample.loopP99Ms.toFixed(1).padStart(12)} ${String(sample.fds).padStart(4)} ${String(sample.clients).padStart(8)}  ${lastCounts}\n`,
  );
}

load.kill("SIGKILL");
await hub.close();
await rm(dataDir, { recursive: true, force: true });

const verdicts = judgeFlatness(samples);
for (const line of verdicts.lines) process.stdout.write(`${line}\n`);
process.stdout.write(verdicts.flat ? "verdict: flat\n" : "verdict: NOT flat\n");
process.exit(verdicts.flat ? 0 : 1);

/**
 * Flat means: after the first quarter (warm-up), the last third's averages are within bounds of
 * the middle's — RSS and heap grow by under 20% (or 10 MB), fds by at most 10, and event-loop
 * p99 stays under 50 ms or within 2× of where it was.
 */
function judgeFlatness(all: Sample[]): { flat: boolean; lines: string[] } {
  const settled = all.slice(Math.floor(all.length / 4));
  if (settled.length < 3) return { flat: false, lines: ["too few samples: run for longer (--minutes)"] };
  const third = Math.max(1, Math.floor(settled.length / 3));
  const early = settled.slice(0, third);
  const late = settled.slice(-third);
  const mean = (list: Sample[], key: keyof Sample) => list.reduce((sum, s) => sum + s[key], 0) / list.length;
  const checks = [
    growth("RSS", mean(early, "rssMb"), mean(late, "rssMb"), "MB", (a, b) => b - a < Math.max(10, a * 0.2)),
    growth("heap", mean(early, "heapMb"), mean(late, "heapMb"), "MB", (a, b) => b - a < Math.max(10, a * 0.2)),
    growth("open fds", mean(early, "fds"), mean(late, "fds"), "", (a, b) => b - a <= 10),
    growth("event-loop p99", mean(early, "loopP99Ms"), mean(late, "loopP99Ms"), "ms", (a, b) => b < 50 || b < 2 * a),
  ];
  return { flat: checks.every((c) => c.ok), lines: checks.map((c) => c.line) };
}

function growth(
  what: string,
  early: number,
  late: number,
  unit: string,
  ok: (early: number, late: number) => boolean,
): { ok: boolean; line: string } {
  const passed = ok(early, late);
  return {
    ok: passed,
    line: `${what}: ${early.toFixed(1)}${unit} → ${late.toFixed(1)}${unit} ${passed ? "(flat)" : "(GROWING)"}`,
  };
}
