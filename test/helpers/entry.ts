// How tests run the project's entry points as child processes, exactly as the npm scripts and the
// `switchboard` command do: from their bundles (dist/<name>.mjs, and the hub's dist/switchboard.cjs,
// which test/global-setup.ts builds before any test); any other script through tsx.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { bundlePath } from "../../client/launch.js";
import { ENTRY_POINTS, HUB_ENTRY_POINTS, SERVER_BUNDLE } from "../../server/build.ts";

export const HUB_ENTRY = HUB_ENTRY_POINTS.switchboard;

const BUNDLES = new Map<string, string>([
  ...Object.entries(ENTRY_POINTS).map(([name, source]) => [source, bundlePath(name)] as const),
  [HUB_ENTRY, SERVER_BUNDLE],
]);

/** Node's arguments before the script's own: `node <these> --port 0 …`. */
export function nodeArgs(script: string): string[] {
  const bundle = BUNDLES.get(script);
  return bundle ? [bundle] : ["--import", "tsx", script];
}

const ROOT = join(import.meta.dirname, "..", "..");

/** The environment without the hub's or the chat bots' tokens (a developer's own must not leak in), plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ["SWITCHBOARD_TOKEN", "TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
    delete env[key];
  return { ...env, ...extra };
}

/** Starts an entry point in the project's folder, collecting what it prints. */
export function spawnEntry(script: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [...nodeArgs(script), ...args], { cwd: ROOT, env, stdio: "pipe" });
  const output = { stdout: "", stderr: "" };
  child.stdout.on("data", (c) => {
    output.stdout += String(c);
  });
  child.stderr.on("data", (c) => {
    output.stderr += String(c);
  });
  return { child, output };
}

/** Runs an entry point to its exit; one still running after 20 s is killed (the test expected it to stop). */
export async function runToExit(script: string, args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
  const { child, output } = spawnEntry(script, args, env);
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code] = await once(child, "exit");
  clearTimeout(timer);
  return { code: code as number | null, ...output };
}
