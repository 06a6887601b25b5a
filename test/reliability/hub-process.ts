// The hub as a real child process (`node dist/switchboard.cjs`, as `npm start` runs it), in its own process group
// so a test can SIGKILL it, and everything it may have spawned, at any moment.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { HUB_ENTRY, nodeArgs } from "../helpers/entry.ts";

export const ROOT = join(import.meta.dirname, "..", "..");

export interface HubProcess {
  child: ChildProcess;
  url: string;
  /** Everything the hub wrote to stderr (its log). */
  log(): string;
  /** SIGKILLs the hub's whole process group and waits for it to be gone. */
  kill(): Promise<void>;
  /** SIGTERM, the polite shutdown; waits for the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnHub(
  dataDir: string,
  options: { args?: string[]; startTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
) {
  const child = spawn(
    process.execPath,
    [...nodeArgs(HUB_ENTRY), "--port", "0", "--data-dir", dataDir, ...(options.args ?? [])],
    { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exited = once(child, "exit");
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      killGroup(child, "SIGKILL");
      reject(new Error(`the hub did not start within ${options.startTimeoutMs ?? 15_000} ms: ${stderr}`));
    }, options.startTimeoutMs ?? 15_000);
    child.stdout?.on("data", (chunk) => {
      stdout += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the hub exited with ${code} before listening: ${stderr}`));
    });
  });
  const hub: HubProcess = {
    child,
    url,
    log: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) killGroup(child, "SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) killGroup(child, "SIGTERM");
      const [code] = await exited;
      return code as number | null;
    },
  };
  return hub;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // Already gone.
  }
}
