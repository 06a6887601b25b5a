// Runs bench/fanout-harness.ts in a child process for one job (its subscribers or pollers live
// there, apart from the hub being measured) and resolves with what it measured; a job that never
// finishes fails the row after five minutes instead of hanging `npm run bench`.
import { spawn } from "node:child_process";
import { join } from "node:path";
import type { HarnessJob, HarnessResult } from "./fanout-harness.ts";

/** `R`: what the job's kind returns (HarnessResult, or AlternateResult for "alternate"). */
export function runHarness<R = HarnessResult>(job: HarnessJob): Promise<R> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/fanout-harness.ts"], {
    cwd: join(import.meta.dirname, ".."),
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the fan-out harness did not finish within 5 minutes"));
    }, 300_000);
    child.once("message", (message: { ok: boolean; result?: R; error?: string }) => {
      clearTimeout(timer);
      if (message.ok && message.result) resolve(message.result);
      else reject(new Error(`the fan-out harness failed: ${message.error}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the fan-out harness exited with ${code}`));
    });
    child.send(job);
  });
}
