// `switchboard` as a child process through its bin shim: exit status, stdout and stderr, with no
// token or hub address leaking in from the environment the tests run in.
import { join } from "node:path";
import { execa } from "execa";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "client", "cli", "bin.js");

export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = await execa(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    reject: false,
    timeout: 20_000,
    env: { SWITCHBOARD_TOKEN: "", SWITCHBOARD_HUB: "", ...env },
  });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}
