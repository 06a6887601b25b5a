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
  // From `node --cpu-prof dist/switchboard.cjs` and timestamps inside both processes on this machine (Node 20).
  findings: [
    "Start-up (timestamps inside both processes, alternating starts and node --cpu-prof, the bundles, Node 20, " +
      "2026-12-03): npm start runs dist/switchboard.cjs, which runs the hub's code, one CommonJS file " +
      "(dist/hub.cjs), with V8's code cache, saved by the first start after a build (server/code-cache.ts). A " +
      "start then takes the functions the previous start compiled (zod's, fastify's, the hub's) instead of " +
      "compiling them; Node's own compile cache (22.1+) is made before a module runs and misses most of them, and " +
      "Node 20 has none. 15 alternating starts each: about 1.41× of the bare server without the cache, about 1.2× " +
      "with it. Then zod checks without generated code (jitless: a checker made with new Function cannot be " +
      "cached, so every start compiled one per object schema): about 20 ms less, 1.14×. Packages only optional " +
      "parts use (Telegram, Slack, Ollama's HTTP client, Redis, the voice's and notifier's commands) are bundled " +
      "apart and loaded when such a part starts: with them the hub's file was 1.25 MB, without them 1.03 MB, and " +
      "even with the cache every MB costs about 70 ms to read, decode and take in (tried on a build with every " +
      "lazily loaded part left out: 250 against 275 ms). The bundles are kept plain ASCII: three regular " +
      "expressions with curly quotes made Node decode the hub's file as a two-byte string (about 14 ms instead " +
      "of 10). Earlier the same day: the parts of fastify the hub never takes (its schema compilers, pino, " +
      "light-my-request) left out, Node's built-ins loaded through require() instead of ES module facades, " +
      "esbuild's keepNames off, readline and the DNS resolver loaded on first use: 1.57× to 1.41×. What remains, " +
      "from timestamps in the hub with its cache: Node itself until the entry runs about 90 ms (the same for the " +
      "bare server), reading the file about 10 ms, taking the cache about 20 ms, running the modules about 60 ms " +
      "(fastify, ws, zod and the schemas built at import), and from main() to listening about 40 ms: the config " +
      "and the documents checked with zod (about 11 ms), fastify with its websocket plugin (about 11 ms, as in the " +
      "bare server) and about 45 routes (about 11 ms). The first start after a build compiles all of it, its own " +
      "row above. Saving the cache a second after listening instead of at once, so that it also holds what the " +
      "first connection compiles, made no difference (258 against 261 ms). Given the same code cache (its own row), " +
      "the bare server starts about 20 ms sooner and the hub is about 1.33× of it: the cache is what brings the " +
      "hub under 1.3× of a bare server as one runs it, and what the hub does beyond fastify (zod and the schemas, " +
      "its modules, the config and the documents, 45 routes) takes about 60 ms either way.",
  ],
  async run(): Promise<BenchRow[]> {
    const dir = await mkdtemp(join(tmpdir(), "switchboard-bench-startup-"));
    try {
      const configPath = join(dir, "config.json");
      await writeFile(configPath, JSON.stringify({ logLevel: "warn" }));
      const bareBundle = join(dir, "bare-fastify.cjs");
      await buildBundles();
      await bundleOne(join(ROOT, "bench", "startup-bare-fastify.ts"), bareBundle);
      const bareCachedLoader = join(dir, "bare-cached.cjs");
      await bundleOne(join(ROOT, "bench", "startup-bare-cached.ts"), bareCachedLoader);
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
        // The bare server given the hub's code cache too (its first warm-up start saves it).
        bareCached: { args: [bareCachedLoader, bareBundle, join(dir, "bare-code-cache")], times: [] } as StartRun,
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
      const bareCached = median(runs.bareCached.times);
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
          name: `the same, against the bare server run as the hub is: its bundle with V8's code cache (median of ${ROUNDS})`,
          figure: ms(hub, 0),
          comparison: `bare fastify + websocket with the code cache ${ms(bareCached, 0)}`,
          ratio: `${(hub / bareCached).toFixed(2)}× of bare fastify with the code cache`,
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
