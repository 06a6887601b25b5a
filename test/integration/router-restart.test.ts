// Restart recovery: a hub stopped mid-task leaves its tasks on disk; the next hub on the same
// data directory fails the running ones with "hub restarted" (or queues them again, if
// configured), queues the queued ones again, and keeps waiting approvals waiting.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Task } from "../../shared/schemas.ts";
import { makeDataDir, type TestHub } from "../helpers/hub.ts";
import { cleanupRouterHubs, finishedTask, routerHub } from "../helpers/router-hub.ts";

let dataDirs: string[] = [];

afterEach(async () => {
  await cleanupRouterHubs();
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  dataDirs = [];
});

async function sharedDataDir(): Promise<string> {
  const dir = await makeDataDir();
  dataDirs.push(dir);
  return dir;
}

const taskOf = (hub: TestHub, taskId: string): Task | null => hub.taskContext.getActiveTask(taskId);

/** A first hub whose claude hangs: one task running, one queued behind it, then the hub stops. */
async function interruptedHub(dataDir: string) {
  const first = await routerHub({ dataDir, modes: { FAKE_CLI_HANG: "run" } });
  const running = await first.client.route({ description: "Interrupted work", startedFrom: "cli" });
  const queued = await first.client.route({ description: "Work still waiting", startedFrom: "voice" });
  // A task an external router publishes: not the built-in router's to recover.
  await first.client.addTask({ taskId: "route_external", description: "Someone else's task", startedFrom: "slack" });
  await expect
    .poll(() => taskOf(first.hub, running.taskId)?.status === "running", {
      timeout: 10_000,
      message: "the first task to run",
    })
    .toBeTruthy();
  await first.hub.stop();
  return { first, running: running.taskId, queued: queued.taskId };
}

describe("restart recovery", () => {
  it("fails a task left running with 'hub restarted', runs the queued one, and leaves an external task alone", async () => {
    const dataDir = await sharedDataDir();
    const { first, running, queued } = await interruptedHub(dataDir);
    const onDisk = JSON.parse(await readFile(join(dataDir, "active-context.json"), "utf8")) as { activeTasks: Task[] };
    expect(onDisk.activeTasks.map((t) => [t.taskId, t.status])).toEqual([
      [running, "running"],
      [queued, "queued"],
      ["route_external", "running"],
    ]);

    const second = await routerHub({ dataDir, artifactsDir: first.artifactsDir });

    expect(second.hub.taskContext.getActiveTask(running)).toMatchObject({ status: "failed", error: "hub restarted" });
    await finishedTask(second.hub, queued);
    expect(second.hub.taskContext.getActiveTask(queued)).toMatchObject({ status: "complete", backend: "claude" });
    expect(await readFile(join(first.artifactsDir, `${queued}.md`), "utf8")).toBe("echo: Work still waiting\n");
    expect(taskOf(second.hub, "route_external")?.status).toBe("running");
  });

  it("with onRestart 'requeue', a task left running is queued again and runs to completion", async () => {
    const dataDir = await sharedDataDir();
    const { first, running, queued } = await interruptedHub(dataDir);

    const second = await routerHub({ dataDir, artifactsDir: first.artifactsDir, router: { onRestart: "requeue" } });

    await finishedTask(second.hub, running);
    await finishedTask(second.hub, queued);
    expect(second.hub.taskContext.getActiveTask(running)).toMatchObject({ status: "complete" });
    expect(await readFile(join(first.artifactsDir, `${running}.md`), "utf8")).toBe("echo: Interrupted work\n");
  });

  it("a queued task whose backend is gone after a restart, with none to take it, fails saying why", async () => {
    const dataDir = await sharedDataDir();
    const { first, queued } = await interruptedHub(dataDir);

    const second = await routerHub({ dataDir, artifactsDir: first.artifactsDir, backends: {} });

    const task = second.hub.taskContext.getActiveTask(queued);
    expect(task).toMatchObject({ status: "failed" });
    expect(task?.error).toContain("no backends are configured");
  });

  it("a task waiting for approval still waits after a restart, and approving it on the new hub runs it", async () => {
    const dataDir = await sharedDataDir();
    const first = await routerHub({ dataDir });
    const { taskId } = await first.client.route({
      description: "Deploy the site",
      startedFrom: "dashboard",
      steps: [{ title: "Deploy", prompt: "deploy to production", requiresApproval: true }],
    });
    await expect
      .poll(() => taskOf(first.hub, taskId)?.status === "pending-approval", {
        timeout: 10_000,
        message: "pending approval",
      })
      .toBeTruthy();
    await first.hub.stop();

    const second = await routerHub({ dataDir, artifactsDir: first.artifactsDir });
    expect(taskOf(second.hub, taskId)).toMatchObject({
      status: "pending-approval",
      awaitingApproval: { step: 1, title: "Deploy" },
    });
    await second.client.approve(taskId);
    await finishedTask(second.hub, taskId);
    expect(second.hub.taskContext.getActiveTask(taskId)).toMatchObject({ status: "complete" });
    expect(await readFile(join(first.artifactsDir, `${taskId}.md`), "utf8")).toBe("echo: deploy to production\n");
  });
});
