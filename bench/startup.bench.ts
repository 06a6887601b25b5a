// Hub start-up time to the first accepted connection (a subscriber holding its snapshot),
// against a bare fastify + websocket server started the same way in the same run: as a fresh
// process the way `npm start` runs it (one bundled module, dist/switchboard.mjs), the same from
// the TypeScript sources through tsx (the development path), and in-process (the hub's own
// assembly, modules loaded).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { buildBundles, bundleOne, SERVER_BUNDLE } from "../server/build.ts";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { startHub } from "../server/start.ts";
import { type Benchmark, type BenchRow, ms, verdict } from "./report.ts";
import { startBareFastify } from "./startup-bare-fastify.ts";

const ROUNDS = 7;
/** The target: start-up at most 1.3× a bare fastify + websocket server bundled the same way. */
const TARGET_RATIO = 1.3;
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

/** Milliseconds from spawning `node <args>` to its first accepted subscriber. */
async function processStart(args: string[]): Promise<number> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
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
  // From `node --cpu-prof dist/switchboard.mjs` on this machine (Node 20), new process to the first snapshot.
  findings: [
    "Start-up profile (node --cpu-prof, the bundle, Node 20, 2026-12-03): before its first accepted connection the " +
      "hub spent about 1.6-1.9 times the processor time of the bare fastify server. About a quarter of the hub's is " +
      "V8 compiling the bundle (it grows with the code loaded: the hub now loads 1.58 MB, the bare server 1.15 MB), " +
      "a tenth garbage collection (scavenges of start-up objects that mostly survive), the rest running: evaluating " +
      "modules (fastify and its plugins as in the bare server; zod building the hub's schemas, about a tenth), then " +
      "startHub (fastify's construction and the hub's routes, the documents read and checked, the warm standby, the " +
      "router). Done this session: zod imported as a namespace so its locales are left out (608 KB to 156 KB); execa " +
      "out of the hub (backend processes use node:child_process); the voice channel loaded only when enabled (like " +
      "ioredis, the chat adapters and the notifier); the dashboard's files served through @fastify/send loaded with " +
      "the first file asked for, instead of @fastify/static, which loaded glob at start; no Intl on a machine set to " +
      "UTC (ICU's first use cost tens of milliseconds); the config and documents parsed once without zod generating " +
      "code. Node 20 has no compile cache (module.enableCompileCache, 22.1+, which dist/switchboard.mjs turns on where " +
      "it exists); a V8 code cache through vm.Script over one CommonJS bundle was tried and gained nothing here, since " +
      "compiling is the smaller part and that bundle holds every lazy module. Then: the Slack endpoint (its request" +
      " schemas and views) loaded only when Slack is set up, the REST request schemas (shared/schemas/requests.ts) " +
      "built on their first parse (z.lazy), and the backends' stream-event schemas on the first output read. The " +
      "code loaded at start went from 1.586 MB to 1.556 MB; in alternating runs of each (25 and 31 a set, load " +
      "about 2) the time from process start to the listening line fell by about 6 ms, 2% (medians 288 to 282 ms and" +
      " 285 to 279 ms; a third set showed no difference), module evaluation by about 10 ms. The startup row alone " +
      "at that load gave 312 ms against 201 ms, 1.55×, still not met; this row's ratio moves by more than that " +
      "between runs (the same row on main a minute later: 1.43×, the bare server at 281 ms). At that load the hub " +
      "reaches its listening line in about 280 ms, the bare server in 184 ms: about 60 ms of the difference is " +
      "before main (loading and evaluating 0.4 MB more code, the hub's own 180 KB and zod's 156 KB, and building " +
      "the schemas start-up does use: config, the three documents, the WebSocket frames), about 35 ms from main to " +
      "listening (the config parsed, the documents read and checked, the hub's routes registered). A larger young " +
      "generation (--min-semi-space-size=16) made it slower (about 300 ms). What remains is zod building the " +
      "schemas start-up needs, which only a cheaper way of checking the config and documents would remove, " +
      "compiling the hub's own code, and garbage collection.",
  ],
  async run(): Promise<BenchRow[]> {
    const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-startup-"));
    try {
      const configPath = join(dir, "config.json");
      await writeFile(configPath, JSON.stringify({ logLevel: "warn" }));
      const bareBundle = join(dir, "bare-fastify.mjs");
      await buildBundles();
      await bundleOne(join(ROOT, "bench", "startup-bare-fastify.ts"), bareBundle);
      const hubOptions = ["--config", configPath, "--port", "0", "--data-dir", join(dir, "data")];
      const runs = {
        hubBundle: { args: [SERVER_BUNDLE, ...hubOptions], times: [] as number[] },
        bareBundle: { args: [bareBundle], times: [] as number[] },
        hubTsx: { args: ["--import", "tsx", "server/main.ts", ...hubOptions], times: [] as number[] },
        bareTsx: { args: ["--import", "tsx", "bench/startup-bare-fastify.ts"], times: [] as number[] },
      };
      const hubInProcess: number[] = [];
      const bareInProcess: number[] = [];
      // Warm the disk cache and tsx's transform cache for each before timing.
      for (const run of Object.values(runs)) await processStart(run.args);
      for (let round = 0; round < ROUNDS; round++) {
        for (const run of Object.values(runs)) run.times.push(await processStart(run.args));
        const config = parseConfig({ port: 0, dataDir: join(dir, `in-process-${round}`), logLevel: "silent" });
        hubInProcess.push(
          await inProcessStart(() => startHub({ config, secrets: { token: null }, logger: silentLogger })),
        );
        bareInProcess.push(await inProcessStart(startBareFastify));
      }
      const hub = median(runs.hubBundle.times);
      const bare = median(runs.bareBundle.times);
      const hubTsx = median(runs.hubTsx.times);
      const bareTsx = median(runs.bareTsx.times);
      const hubIn = median(hubInProcess);
      const bareIn = median(bareInProcess);
      return [
        {
          name: `hub start-up to first accepted connection, new process as npm start runs it (bundle; median of ${ROUNDS})`,
          figure: ms(hub, 0),
          comparison: `bare fastify + websocket, bundled the same way ${ms(bare, 0)}`,
          ratio: `${(hub / bare).toFixed(2)}× of bare fastify`,
          target: `≤ ${TARGET_RATIO}× bare fastify — ${verdict(hub <= TARGET_RATIO * bare)}`,
        },
        {
          name: `hub start-up to first accepted connection, new process from the sources through tsx (median of ${ROUNDS})`,
          figure: ms(hubTsx, 0),
          comparison: `bare fastify + websocket through tsx ${ms(bareTsx, 0)}`,
          ratio: `${(hubTsx / bareTsx).toFixed(2)}× of bare fastify; the bundle is ${(hubTsx / hub).toFixed(1)}× faster`,
          target: "—",
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
