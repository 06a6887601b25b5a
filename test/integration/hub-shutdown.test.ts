// Graceful shutdown of the real entry point, run as a child process: SIGTERM closes WebSockets
// with 1001, the last change is on disk, and the process exits 0.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTEXT_FILE } from "../../server/start.ts";
import { HUB_ENTRY, nodeArgs } from "../helpers/entry.ts";
import { openRawSocket, rawRequest } from "../helpers/raw-socket.ts";

const ROOT = join(import.meta.dirname, "..", "..");
let child: ChildProcess | null = null;
let dir = "";

afterEach(async () => {
  if (child && child.exitCode === null && child.pid) process.kill(-child.pid, "SIGKILL");
  child = null;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts `server/main.ts` in its own process group and resolves with its URL once it listens. */
async function startEntryPoint(): Promise<{ url: string; exited: Promise<number | null> }> {
  dir = await mkdtemp(join(tmpdir(), "switchboard-shutdown-"));
  await writeFile(join(dir, "config.json"), JSON.stringify({ port: 0, dataDir: "data", logLevel: "warn" }));
  const proc = spawn(process.execPath, [...nodeArgs(HUB_ENTRY), "--config", join(dir, "config.json")], {
    cwd: ROOT,
    detached: true, // its own process group, so the cleanup above can never leave an orphan
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SWITCHBOARD_TOKEN: "" },
  });
  child = proc;
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the hub did not start: ${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1] as string);
      }
    };
    proc.stdout?.on("data", read);
    proc.stderr?.on("data", read);
    proc.on("exit", (code) => reject(new Error(`the hub exited with ${code}: ${output}`)));
  });
  return { url, exited };
}

describe("graceful shutdown", () => {
  it("on SIGTERM closes WebSockets with 1001, flushes the last change and exits 0", async () => {
    const { url, exited } = await startEntryPoint();
    const raw = await openRawSocket(url);
    raw.send({ type: "subscribe", topics: ["context"] });
    await raw.waitForFrames(1);

    const created = await rawRequest(`${url}/api/context/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ taskId: "route_last", description: "The last word", startedFrom: "cli" }),
    });
    expect(created.status).toBe(201);
    await raw.waitForFrames(2);

    // A change is pushed the moment it is applied, before it is on disk: signal right then, so
    // the save may still be in flight when shutdown begins.
    const lastWord = rawRequest(`${url}/api/context/tasks/route_last`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ lastUpdate: "said just before SIGTERM" }),
    }).catch(() => null);
    await raw.waitForFrames(3);
    child?.kill("SIGTERM");

    expect((await raw.closed).code).toBe(1001);
    expect(await exited).toBe(0);
    await lastWord;
    const saved = JSON.parse(await readFile(join(dir, "data", CONTEXT_FILE), "utf8"));
    expect(saved.activeTasks).toMatchObject([{ taskId: "route_last", lastUpdate: "said just before SIGTERM" }]);
  });
});
