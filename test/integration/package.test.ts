// The switchboard/session, switchboard/warmup and switchboard/client package as a router's plain
// JavaScript uses it: a hub running as its own process, and a .js (ES module) and a .cjs
// (CommonJS) file in a temporary folder whose node_modules links the project, as `npm link` or a
// file: dependency installs it. Each calls all 13 functions; the test checks the hub's state over
// REST. Inside the hub's process the same functions act on its own state.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { registerLocalHub } from "../../client/package/local-hub.ts";
import * as session from "../../client/package/session.ts";
import * as warmup from "../../client/package/warmup.ts";
import { ManualClock } from "../../shared/clock.ts";
import type { Context, Health } from "../../shared/schemas.ts";
import { type FakeOllama, startFakeOllama } from "../fixtures/fake-ollama.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { type HubProcess, ROOT, spawnHub } from "../reliability/hub-process.ts";

const run = promisify(execFile);
const TOKEN = "package-test-token";

/** A router's script: every function once, in the order a router would call them; prints what it saw. */
const ROUTER_SCRIPT = (load: string) => `${load}

async function main() {
  const seen = {};
  const task = await session.addTask({
    taskId: process.env.TASK_ID,
    description: "Analyze trust documents",
    startedFrom: "cli",
    plan: { steps: [{ title: "Read" }, { title: "Summarize" }], router: "index.js" },
  });
  seen.added = task.status;
  seen.readBack = (await session.getActiveTask(task.taskId)).plan.router;
  await session.updateTask(task.taskId, { currentStep: 2, lastUpdate: "summarizing" });
  seen.afterUpdate = (await session.getContext()).activeTasks.find((t) => t.taskId === task.taskId).currentStep;
  await session.setChannelActive("cli", task.taskId);
  seen.channel = (await session.getChannelState("cli")).lastTaskId;
  seen.health = Object.keys((await warmup.getHealth()).backends);
  seen.pinged = (await warmup.pingNow("ollama")).status;
  seen.ollama = (await warmup.getHealth("ollama")).status;
  seen.prewarmed = (await warmup.preWarm("ollama")).id.startsWith("ollama-");
  seen.paused = (await warmup.stopWarmup()).pingsPaused;
  seen.resumed = (await warmup.startWarmup()).pingsPaused;
  const done = await session.completeTask(task.taskId, { pages: 12, verdict: "fine" });
  seen.completed = done.status;
  seen.inRecent = (await session.getContext()).recentCompleted[0].taskId === task.taskId;
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
`;

const ESM_ROUTER = ROUTER_SCRIPT(
  'import * as session from "switchboard/session";\nimport * as warmup from "switchboard/warmup";',
);
const CJS_ROUTER = ROUTER_SCRIPT(
  'const session = require("switchboard/session");\nconst warmup = require("switchboard/warmup");',
);

describe("the package from another process", () => {
  let folder: string;
  let dataDir: string;
  let ollama: FakeOllama;
  let hub: HubProcess;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "switchboard-router-"));
    dataDir = join(folder, "data");
    ollama = await startFakeOllama();
    // Installed as `npm link` or a file: dependency would: a symlink to the project.
    await mkdir(join(folder, "node_modules"), { recursive: true });
    await symlink(ROOT, join(folder, "node_modules", "switchboard"), "dir");
    await writeFile(join(folder, "package.json"), JSON.stringify({ name: "my-router", type: "module" }));
    await writeFile(join(folder, "router.js"), ESM_ROUTER);
    await writeFile(join(folder, "router.cjs"), CJS_ROUTER);
    const config = join(folder, "config.json");
    await writeFile(
      config,
      JSON.stringify({
        logLevel: "warn",
        warmup: { firstPingDelayMs: 0, intervalMs: 600_000 },
        backends: { ollama: { kind: "ollama", url: ollama.url, model: "llama3.2" } },
      }),
    );
    hub = await spawnHub(dataDir, { args: ["--config", config], env: { SWITCHBOARD_TOKEN: TOKEN } });
  });

  afterAll(async () => {
    await hub?.stop();
    await ollama?.close();
    await rm(folder, { recursive: true, force: true });
  });

  const rest = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  /** Runs a router script with node alone (no tsx, no TypeScript); it must end by itself. */
  const runRouter = async (file: string, taskId: string, env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [file], {
      cwd: folder,
      timeout: 60_000,
      env: { ...process.env, SWITCHBOARD_HUB: hub.url, SWITCHBOARD_TOKEN: TOKEN, TASK_ID: taskId, ...env },
    });

  it.each([
    ["router.js", "an ES module importing"],
    ["router.cjs", "a CommonJS file requiring"],
  ])(
    "%s, %s switchboard/session and switchboard/warmup by name, calls all 13 functions on the running hub",
    async (file) => {
      const taskId = `router-${file.replace(".", "-")}`;
      const { stdout } = await runRouter(file, taskId);
      expect(JSON.parse(stdout)).toEqual({
        added: "running",
        readBack: "index.js",
        afterUpdate: 2,
        channel: taskId,
        health: ["ollama"],
        pinged: "warm",
        ollama: "warm",
        prewarmed: true,
        paused: true,
        resumed: false,
        completed: "complete",
        inRecent: true,
      });
      // The hub's own state, over REST.
      const context = await rest<Context>("/api/context");
      const finished = context.recentCompleted.find((t) => t.taskId === taskId);
      expect(finished).toMatchObject({
        status: "complete",
        result: { pages: 12, verdict: "fine" },
        plan: { router: "index.js" },
        currentStep: 2,
      });
      expect(context.activeTasks.some((t) => t.taskId === taskId)).toBe(false);
      expect(context.channelHistory.cli?.lastTaskId).toBe(taskId);
      const health = await rest<Health>("/api/health");
      expect(health.pingsPaused).toBe(false);
      expect(health.backends.ollama?.status).toBe("warm");
      expect(ollama.calls.some((c) => c.path === "/api/generate" && c.body?.model === "llama3.2")).toBe(true);
    },
  );

  it("an unreachable hub fails every call with an error that says so and how to start one", async () => {
    const closed = await startFakeOllama();
    const address = closed.url;
    await closed.close();
    const error = await runRouter("router.cjs", "never", { SWITCHBOARD_HUB: address }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain(`switchboard: cannot reach the hub at ${address} (ECONNREFUSED)`);
    expect(error?.stderr).toContain("Start one with `npm start` in the switchboard folder");
  });

  it("a wrong token is the hub's refusal, not a hang", async () => {
    const error = await runRouter("router.js", "refused", { SWITCHBOARD_TOKEN: "wrong" }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain("a valid token is required");
  });

  it("switchboard/client gives the SDK to a CommonJS program", async () => {
    await writeFile(
      join(folder, "watch.cjs"),
      `const { createNodeHubClient, summarySentence } = require("switchboard/client");
const client = createNodeHubClient({ url: process.env.SWITCHBOARD_HUB, token: process.env.SWITCHBOARD_TOKEN });
client.connect().then(() => { console.log(summarySentence(client.context)); client.close(); });`,
    );
    const { stdout } = await run(process.execPath, ["watch.cjs"], {
      cwd: folder,
      timeout: 60_000,
      env: { ...process.env, SWITCHBOARD_HUB: hub.url, SWITCHBOARD_TOKEN: TOKEN },
    });
    expect(stdout.trim()).toBe("Nothing is running");
  });
});

describe("the package inside the hub's process", () => {
  let hub: TestHub;

  afterEach(async () => {
    registerLocalHub(null as never);
    await hub?.stop();
  });

  it("acts on the hub's own state, with no connection to itself", async () => {
    hub = await startTestHub();
    registerLocalHub({ taskContext: hub.taskContext, warmStandby: hub.warmStandby });
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const task = await session.addTask({ description: "In process", startedFrom: "cli" });
    expect(hub.taskContext.getActiveTask(task.taskId)).toEqual(task);
    await session.updateTask(task.taskId, { status: "failed", error: "stopped" });
    expect(hub.taskContext.getContext().recentCompleted[0]).toMatchObject({ taskId: task.taskId, status: "failed" });
    expect(await session.getActiveTask(task.taskId)).toMatchObject({ status: "failed" });
    expect((await warmup.stopWarmup()).pingsPaused).toBe(true);
    expect(hub.warmStandby.getHealth().pingsPaused).toBe(true);
    expect((await warmup.startWarmup()).pingsPaused).toBe(false);
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });

  it("stopWarmup() pauses the pings (none while paused), and startWarmup() pings again", async () => {
    const ollama = await startFakeOllama();
    const clock = new ManualClock();
    try {
      hub = await startTestHub({
        clock,
        config: { backends: { ollama: { kind: "ollama", url: ollama.url } }, warmup: { intervalMs: 60_000 } },
      });
      registerLocalHub({ taskContext: hub.taskContext, warmStandby: hub.warmStandby });
      const pings = () => ollama.calls.filter((c) => c.path === "/api/tags").length;
      clock.advance(0);
      await vi.waitFor(() => expect(hub.warmStandby.getHealth("ollama").lastPing).not.toBeNull());
      expect(pings()).toBe(1);
      await warmup.stopWarmup();
      clock.advance(10 * 60_000);
      expect(pings()).toBe(1);
      expect(hub.warmStandby.getHealth()).toMatchObject({ pingsPaused: true });
      await warmup.startWarmup();
      clock.advance(0);
      await vi.waitFor(() => expect(pings()).toBe(2));
      clock.advance(60_000);
      await vi.waitFor(() => expect(pings()).toBe(3));
    } finally {
      await ollama.close();
    }
  });
});
