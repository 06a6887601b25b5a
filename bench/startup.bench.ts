// Hub start-up time to the first accepted connection (a subscriber holding its snapshot),
// against a bare fastify + websocket server started the same way in the same run: as a fresh
// process the way `npm start` runs it (dist/switchboard.cjs: the bundle with its code cache, and as
// the first start after a build, without one), the same from
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
async function processStart(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
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

/** A way of starting a process, and its start-up times. */
interface StartRun {
  args: string[];
  env?: NodeJS.ProcessEnv;
  times: number[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const startup: Benchmark = {
  name: "startup",
  // From `node --cpu-prof dist/switchboard.mjs` and timestamps inside both processes on this machine (Node 20).
  findings: [
    "Start-up (node --cpu-prof and timestamps inside both processes, the bundles, Node 20, 2026-12-03, load about " +
      "1.5): the hub prints its listening line about 65 ms after the bare server (about 255 against 185 ms). Before " +
      "main() the bare server has run its modules by about 155 ms, the hub by about 195 ms: zod and the schemas " +
      "built at import (about 15 ms, most of it V8 compiling zod's code the first time it builds a schema), the " +
      "hub's own modules, and garbage collection (six scavenges against three: the hub holds about 13 MB at start, " +
      "the bare server 8). From main() to listening the hub checks its config with zod (about 6 ms), reads and " +
      "checks the documents (about 7 ms) and registers about 45 routes (about 12 ms; the bare server one). Done " +
      "this session: the bundles leave out what fastify requires only on paths the hub never takes: its schema " +
      "compilers (ajv, fast-json-stringify; the hub tells fastify it checks requests itself, in zod), pino and " +
      "light-my-request; Node's built-ins load through require() instead of ES module facades, which loaded Web " +
      "Crypto, the MIME parser and BlockList that nothing used; esbuild's keepNames is off (a naming call around " +
      "every function zod creates); readline and the DNS resolver load on first use. The hub loads 0.93 MB of code " +
      "at start instead of 1.56 MB, and its start-up to the first subscriber fell from about 316 to 264 ms while " +
      "the bare server stayed at about 186 ms: 1.57× to about 1.4×. Tried and dropped, for no difference in 15 to " +
      "25 alternating runs: every composite schema built on its first parse (z.lazy; the schemas' module ran 9 ms " +
      "faster, but the time moved to the first schema the config builds, since it is zod's code being compiled), " +
      "a build of the hub alone (14 modules at start instead of 23), and a larger young generation (slower). On " +
      "Node 22.1+ the compile cache, now also written once the hub listens (so a hub that is killed leaves it " +
      "too), brought the hub to about 240-255 ms against 177 ms for the bare server (Node 24, the bare server " +
      "keeping no cache). What remains is the hub's own work: zod's code compiled and run for the config and the " +
      "documents, the hub's modules and routes, and the garbage collection they cause; only checking the config " +
      "and documents without zod at start would remove the largest part, and the contract has every boundary " +
      "checked by one set of zod schemas.",
  ],
  async run(): Promise<BenchRow[]> {
    const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-startup-"));
    try {
      const configPath = join(dir, "config.json");
      await writeFile(configPath, JSON.stringify({ logLevel: "warn" }));
      const bareBundle = join(dir, "bare-fastify.cjs");
      await buildBundles();
      await bundleOne(join(ROOT, "bench", "startup-bare-fastify.ts"), bareBundle);
      const hubOptions = ["--config", configPath, "--port", "0", "--data-dir", join(dir, "data")];
      const runs = {
        // The first warm-up start saves the hub's code cache (server/code-cache.ts) if this build has none.
        hubBundle: { args: [SERVER_BUNDLE, ...hubOptions], times: [] } as StartRun,
        // As the first start after a build: compiling everything.
        hubUncached: {
          args: [SERVER_BUNDLE, ...hubOptions],
          env: { NODE_DISABLE_COMPILE_CACHE: "1" },
          times: [],
        } as StartRun,
        bareBundle: { args: [bareBundle], times: [] } as StartRun,
        hubTsx: { args: ["--import", "tsx", "server/main.ts", ...hubOptions], times: [] } as StartRun,
        bareTsx: { args: ["--import", "tsx", "bench/startup-bare-fastify.ts"], times: [] } as StartRun,
      };
      const hubInProcess: number[] = [];
      const bareInProcess: number[] = [];
      // Warm the disk cache and tsx's transform cache for each before timing.
      for (const run of Object.values(runs)) await processStart(run.args, run.env);
      for (let round = 0; round < ROUNDS; round++) {
        for (const run of Object.values(runs)) run.times.push(await processStart(run.args, run.env));
        const config = parseConfig({ port: 0, dataDir: join(dir, `in-process-${round}`), logLevel: "silent" });
        hubInProcess.push(
          await inProcessStart(() => startHub({ config, secrets: { token: null }, logger: silentLogger })),
        );
        bareInProcess.push(await inProcessStart(startBareFastify));
      }
      const hub = median(runs.hubBundle.times);
      const hubUncached = median(runs.hubUncached.times);
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
          name: `hub start-up to first accepted connection, the first start after a build (no code cache yet, NODE_DISABLE_COMPILE_CACHE=1; median of ${ROUNDS})`,
          figure: ms(hubUncached, 0),
          comparison: `bare fastify + websocket, bundled the same way ${ms(bare, 0)}`,
          ratio: `${(hubUncached / bare).toFixed(2)}× of bare fastify; the code cache saves ${ms(hubUncached - hub, 0)}`,
          target: "—",
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
