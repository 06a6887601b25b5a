// The `switchboard` command as a person runs it — a new process through its bin, from the bundle —
// against an empty `node -e 0` started the same way, alternating the two (median of 7): `status`
// against a running hub, and `--help`.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundlePath, isBundleCurrent } from "../client/launch.js";
import { buildBundles } from "../server/build.ts";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { startHub } from "../server/start.ts";
import { type Benchmark, type BenchRow, ms, verdict } from "./report.ts";

const ROUNDS = 7;
const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "client", "cli", "bin.js");

/** Milliseconds from spawning `node <args>` to its exit; rejects unless it exits 0. */
function timed(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: "ignore",
      env: { ...process.env, SWITCHBOARD_TOKEN: "" },
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`node ${args.join(" ")} exited with ${code}`)),
    );
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const benchmark: Benchmark = {
  name: "cli",
  async run(): Promise<BenchRow[]> {
    await buildBundles();
    if (!isBundleCurrent("cli")) throw new Error(`${bundlePath("cli")} is not current after building`);
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-bench-cli-"));
    const hub = await startHub({
      config: parseConfig({ port: 0, dataDir, logLevel: "silent", backends: {} }),
      secrets: { token: null },
      logger: silentLogger,
    });
    try {
      await hub.taskContext.addTask({ taskId: "bench-cli", description: "Time the CLI", startedFrom: "cli" });
      const commands = {
        status: [BIN, "status", "--hub", hub.url],
        help: [BIN, "--help"],
        empty: ["-e", "0"],
      };
      const times = { status: [] as number[], help: [] as number[], empty: [] as number[] };
      // Warm the disk cache (and Node's compile cache where there is one) for each.
      for (const args of Object.values(commands)) await timed(args);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, args] of Object.entries(commands)) times[name as keyof typeof times].push(await timed(args));
      }
      const [status, help, empty] = [median(times.status), median(times.help), median(times.empty)];
      return [
        {
          name: `switchboard status, new process to exit, against a running hub (median of ${ROUNDS}, alternating)`,
          figure: ms(status, 0),
          comparison: `node -e 0 ${ms(empty, 0)}`,
          ratio: `${(status / empty).toFixed(2)}× of node -e 0`,
          target: `≤ 2× — ${verdict(status <= 2 * empty)}`,
        },
        {
          name: `switchboard --help, new process to exit (median of ${ROUNDS}, alternating)`,
          figure: ms(help, 0),
          comparison: `node -e 0 ${ms(empty, 0)}`,
          ratio: `${(help / empty).toFixed(2)}× of node -e 0`,
          target: `≤ 1.5× — ${verdict(help <= 1.5 * empty)}`,
        },
      ];
    } finally {
      await hub.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};

export default benchmark;
