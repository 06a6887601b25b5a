// Hub start-up time to the first accepted connection (a subscriber holding its snapshot),
// against a bare fastify + websocket server started the same way in the same run: as a fresh
// process (what a person waits for), and in-process (the hub's own assembly, modules loaded).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { startHub } from "../server/start.ts";
import { type Benchmark, type BenchRow, ms, verdict } from "./report.ts";
import { startBareFastify } from "./startup-bare-fastify.ts";

const ROUNDS = 7;
const TARGET_MS = 500;
const ROOT = join(import.meta.dirname, "..");

/** Resolves once a subscriber at `url` holds its first frame. */
function firstSnapshot(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`);
    socket.once("error", reject);
    socket.once("open", () => socket.send(JSON.stringify({ type: "subscribe", topics: ["context"] })));
    socket.once("message", () => {
      socket.terminate();
      resolve();
    });
  });
}

/** Milliseconds from spawning the process to its first accepted subscriber. */
async function processStart(args: string[]): Promise<number> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk) => {
        out += String(chunk);
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1] as string);
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code} before listening`)));
    });
    await firstSnapshot(url);
    return performance.now() - started;
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}

/** Milliseconds from calling `start` to its first accepted subscriber, modules already loaded. */
async function inProcessStart(start: () => Promise<{ url: string; close: () => Promise<void> }>): Promise<number> {
  const started = performance.now();
  const server = await start();
  await firstSnapshot(server.url);
  const elapsed = performance.now() - started;
  await server.close();
  return elapsed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const startup: Benchmark = {
  name: "startup",
  async run(): Promise<BenchRow[]> {
    const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-startup-"));
    try {
      const configPath = join(dir, "config.json");
      await writeFile(configPath, JSON.stringify({ logLevel: "warn" }));
      const hubArgs = ["server/main.ts", "--config", configPath, "--port", "0", "--data-dir", join(dir, "data")];
      const bareArgs = ["bench/startup-bare-fastify.ts"];
      const hubProcess: number[] = [];
      const bareProcess: number[] = [];
      const hubInProcess: number[] = [];
      const bareInProcess: number[] = [];
      // Warm the disk cache and tsx's transform cache for both before timing.
      await processStart(hubArgs);
      await processStart(bareArgs);
      for (let round = 0; round < ROUNDS; round++) {
        hubProcess.push(await processStart(hubArgs));
        bareProcess.push(await processStart(bareArgs));
        const config = parseConfig({ port: 0, dataDir: join(dir, `in-process-${round}`), logLevel: "silent" });
        hubInProcess.push(
          await inProcessStart(() => startHub({ config, secrets: { token: null }, logger: silentLogger })),
        );
        bareInProcess.push(await inProcessStart(startBareFastify));
      }
      const hub = median(hubProcess);
      const bare = median(bareProcess);
      const hubIn = median(hubInProcess);
      const bareIn = median(bareInProcess);
      return [
        {
          name: `hub start-up to first accepted connection, new process (median of ${ROUNDS})`,
          figure: ms(hub, 0),
          comparison: `bare fastify + websocket ${ms(bare, 0)}`,
          ratio: `${(hub / bare).toFixed(2)}× of bare fastify`,
          target: `≤ ${TARGET_MS} ms — ${verdict(hub <= TARGET_MS)}`,
        },
        {
          name: `hub start-up to first accepted connection, in-process (median of ${ROUNDS})`,
          figure: ms(hubIn, 1),
          comparison: `bare fastify + websocket ${ms(bareIn, 1)}`,
          ratio: `${(hubIn / bareIn).toFixed(2)}× of bare fastify`,
          target: "—",
        },
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default startup;
