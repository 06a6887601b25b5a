// Work runs once across hub processes on one Redis: each routed task runs on exactly one hub
// (the fake CLIs log every invocation), and when a hub is SIGKILLed the others keep serving
// and take its tasks over once its lease expires, as a restart would.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Context, Task } from "../../shared/schemas.ts";
import { fakeCliCalls, fakeCliEnv } from "../fixtures/fake-cli-env.ts";
import { type RedisServer, redisAvailable, startRedis } from "../helpers/redis-server.ts";
import { type HubProcess, spawnHub } from "../reliability/hub-process.ts";

let redis: RedisServer;
let dir: string;
const hubs: HubProcess[] = [];

beforeEach(async () => {
  if (redisAvailable || process.env.CI) redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), "switchboard-cluster-"));
});

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.kill()));
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function clusterHub(name: string, env: NodeJS.ProcessEnv): Promise<HubProcess> {
  const config = join(dir, `${name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      logLevel: "warn",
      store: { kind: "redis", url: redis.url, keyPrefix: "work", leaseTtlMs: 1000 },
      // Backends get a filtered environment: the fakes' settings are passed on purpose.
      backends: { claude: { kind: "claude", env: Object.keys(env).filter((name) => name.startsWith("FAKE_")) } },
      warmup: { firstPingDelayMs: 0 },
      router: { onRestart: "requeue", artifactsDir: join(dir, "artifacts") },
    }),
  );
  const hub = await spawnHub(join(dir, name), { args: ["--config", config], env });
  hubs.push(hub);
  return hub;
}

async function route(hub: HubProcess, description: string): Promise<string> {
  const response = await fetch(`${hub.url}/api/route`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ description, startedFrom: "cli" }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { taskId: string }).taskId;
}

async function context(hub: HubProcess): Promise<Context> {
  return (await (await fetch(`${hub.url}/api/context`)).json()) as Context;
}

const finished = (ctx: Context, taskId: string): Task | undefined =>
  ctx.recentCompleted.find((t) => t.taskId === taskId);

/** Runs of the fake claude (not its --version / auth pings). */
async function runs(log: string) {
  return (await fakeCliCalls(log)).filter((call) => call.name === "claude" && call.argv.includes("-p"));
}

describe.skipIf(!redisAvailable && !process.env.CI)("work shared by hub processes on one Redis", () => {
  it("runs each routed task exactly once, whichever hub it was sent to and whenever a hub joins", async () => {
    // Slow runs keep tasks queued while a third hub starts: it must not take up tasks that
    // live hubs hold (a hub starting alone would recover them as a previous hub's leftovers).
    const fake = await fakeCliEnv({ FAKE_CLI_START_DELAY_MS: "1500" });
    const a = await clusterHub("a", fake.env);
    const b = await clusterHub("b", fake.env);
    const taskIds: string[] = [];
    for (let i = 0; i < 6; i++) taskIds.push(await route(i % 2 ? b : a, `task number ${i}`));
    const c = await clusterHub("c", fake.env);
    taskIds.push(await route(c, "task number 6"));

    await expect
      .poll(
        async () => {
          const ctx = await context(a);
          return taskIds.every((id) => finished(ctx, id)?.status === "complete");
        },
        { timeout: 30_000, message: "every task complete" },
      )
      .toBeTruthy();
    const ctx = await context(c);
    for (const [i, id] of taskIds.entries()) expect(finished(ctx, id)?.result).toContain(`task number ${i}`);
    expect(await runs(fake.log)).toHaveLength(7);
  });

  it("when a hub is killed, the others keep serving and take its running task over after the lease", async () => {
    const hanging = await fakeCliEnv({ FAKE_CLAUDE_HANG: "run" });
    const healthy = await fakeCliEnv();
    const doomed = await clusterHub("doomed", hanging.env);
    const survivor = await clusterHub("survivor", healthy.env);

    const taskId = await route(doomed, "survive the crash");
    await expect
      .poll(
        async () => (await context(survivor)).activeTasks.some((t) => t.taskId === taskId && t.status === "running"),
        { timeout: 15_000, message: "the task running on the doomed hub" },
      )
      .toBeTruthy();
    expect(await runs(healthy.log)).toHaveLength(0);

    await doomed.kill();
    expect((await fetch(`${survivor.url}/api/context`)).status).toBe(200);

    await expect
      .poll(async () => finished(await context(survivor), taskId)?.status === "complete", {
        timeout: 20_000,
        message: "taken over",
      })
      .toBeTruthy();
    expect(finished(await context(survivor), taskId)?.result).toContain("survive the crash");
    expect(await runs(healthy.log)).toHaveLength(1);
  });
});
