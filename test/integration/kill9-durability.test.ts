// kill -9: a child process acknowledges changes as they become durable and is SIGKILLed at a random
// moment; after a restart, every acknowledged change is there and the file always parses.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTEXT_FILE } from "../../server/start.ts";
import { type Context, contextSchema } from "../../shared/schemas.ts";
import { makeDataDir } from "../helpers/hub.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const WRITER = join(ROOT, "test", "fixtures", "acknowledging-writer.ts");
const ROUNDS = 3;

let dataDir: string | null = null;
let child: ChildProcess | null = null;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) killGroup(child);
  child = null;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = null;
});

function killGroup(process_: ChildProcess): void {
  try {
    process.kill(-(process_.pid as number), "SIGKILL");
  } catch {
    // Already gone.
  }
}

interface Run {
  ready: { movedAside: string | null; tasks: number; counter: string | null };
  acked: string[];
  counts: number[];
}

/** Starts the writer, lets it acknowledge for a random while, SIGKILLs its process group. */
async function runAndKill(dir: string, prefix: string, killAfterMs: number): Promise<Run> {
  const started = spawn(process.execPath, ["--import", "tsx", WRITER, dir, prefix], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = started;
  const exited = once(started, "exit");
  const run: Run = { ready: { movedAside: null, tasks: -1, counter: null }, acked: [], counts: [] };
  let stderr = "";
  started.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  let buffered = "";
  let firstAck: () => void = () => {};
  const acknowledging = new Promise<void>((resolve) => {
    firstAck = resolve;
  });
  started.stdout?.on("data", (chunk) => {
    buffered += String(chunk);
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const [word, rest = ""] = [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)];
      // Only complete lines count: a line the kill cut short was never fully acknowledged.
      if (word === "ready") run.ready = JSON.parse(rest);
      else if (word === "ack") run.acked.push(rest);
      else if (word === "count") run.counts.push(Number(rest));
      if (word === "ack") firstAck();
    }
  });
  await Promise.race([
    acknowledging,
    exited.then(() => {
      throw new Error(`the writer exited before acknowledging anything: ${stderr}`);
    }),
  ]);
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  killGroup(started);
  const [, signal] = await exited;
  expect(signal).toBe("SIGKILL");
  return run;
}

async function readContext(dir: string): Promise<Context> {
  const text = await readFile(join(dir, CONTEXT_FILE), "utf8");
  const parsed = contextSchema.safeParse(JSON.parse(text));
  expect(parsed.success).toBe(true);
  return parsed.data as Context;
}

describe("kill -9 during bursts of durable writes", () => {
  it("keeps every acknowledged change across SIGKILLs at random moments and restarts", async () => {
    const dir = await makeDataDir();
    dataDir = dir;
    const allAcked = new Set<string>();
    let lastCount = -1;
    for (let round = 0; round < ROUNDS; round++) {
      // A random moment in the middle of the bursts (the delay is chosen, not asserted).
      const run = await runAndKill(dir, `r${round}`, 100 + Math.floor(Math.random() * 900));
      expect(run.acked.length).toBeGreaterThan(0);

      // On restart the writer found a valid file (nothing moved aside) holding everything so far.
      expect(run.ready.movedAside).toBeNull();
      expect(run.ready.tasks).toBeGreaterThanOrEqual(allAcked.size + (round > 0 ? 1 : 0));
      if (round > 0) expect(Number(run.ready.counter)).toBeGreaterThanOrEqual(lastCount);

      for (const id of run.acked) allAcked.add(id);
      // Each run counts its bursts from 0 again; within a run the counter only rises.
      lastCount = Math.max(-1, ...run.counts);

      // Straight after the kill: the file parses, matches the schema and holds every acknowledged task.
      const context = await readContext(dir);
      const present = new Set(context.activeTasks.map((t) => t.taskId));
      const missing = [...allAcked].filter((id) => !present.has(id));
      expect(missing).toEqual([]);
      expect(Number(context.activeTasks.find((t) => t.taskId === "counter")?.lastUpdate)).toBeGreaterThanOrEqual(
        lastCount,
      );
    }
    // A killed writer may leave a temporary file; the next start sweeps it, so at most the last remains.
    const leftovers = (await readdir(dir)).filter((name) => name.endsWith(".tmp"));
    expect(leftovers.length).toBeLessThanOrEqual(1);
    expect((await readdir(dir)).filter((name) => name.includes(".corrupt-"))).toEqual([]);
  });
});
