// The built-in router in a real hub with fake claude/codex CLIs on PATH and a fake Ollama:
// intake over REST, steps published in order over WebSocket, the output file, backend choice by
// health, fallback, timeouts, approvals, cancellation (process group killed) and pre-warmed sessions.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../shared/clock.ts";
import type { Task } from "../../shared/schemas.ts";
import { groupMembers } from "../fixtures/fake-cli-env.ts";
import { type FakeOllama, startFakeOllama } from "../fixtures/fake-ollama.ts";
import type { TestHub } from "../helpers/hub.ts";
import { cleanupRouterHubs, finishedTask, refusal, routerHub, runCalls } from "../helpers/router-hub.ts";

let ollama: FakeOllama | null = null;

afterEach(async () => {
  await cleanupRouterHubs();
  await ollama?.close();
  ollama = null;
});

const CLAUDE_AND_CODEX = {
  claude: { kind: "claude", preference: 2 },
  codex: { kind: "codex", preference: 1 },
};

const taskOf = (hub: TestHub, taskId: string): Task => {
  const task = hub.taskContext.getActiveTask(taskId);
  if (!task) throw new Error(`no task ${taskId}`);
  return task;
};

describe("a routed task", () => {
  it("is registered queued at once, runs three steps that a WebSocket subscriber sees in order, and completes with its output file", async () => {
    const { hub, client, artifactsDir } = await routerHub({
      modes: { FAKE_CLI_CHUNKS: "3", FAKE_CLI_EVENT_DELAY_MS: "15" },
      router: { outputThrottleMs: 1 },
    });
    await client.connect();
    const seen: Pick<Task, "status" | "currentStep" | "lastUpdate" | "progress" | "eta">[] = [];
    let firstSeen: Task | undefined;
    client.on("change", () => {
      const task = client.context?.activeTasks[0] ?? client.context?.recentCompleted[0];
      firstSeen ??= task;
      const last = seen[seen.length - 1];
      if (task && (last?.lastUpdate !== task.lastUpdate || last?.status !== task.status)) {
        const { status, currentStep, lastUpdate, progress, eta } = task;
        seen.push({ status, currentStep, lastUpdate, progress, eta });
      }
    });

    const { taskId } = await client.route({
      description: "Analyze the trust documents",
      startedFrom: "telegram",
      steps: [
        { title: "Gather", prompt: "gather the documents" },
        { title: "Compare", prompt: "compare the clauses" },
        { title: "Summarize", prompt: "summarize the findings" },
      ],
    });
    expect(taskId).toMatch(/^route_/);
    await finishedTask(hub, taskId);

    const done = hub.taskContext.getActiveTask(taskId) as Task;
    expect(done).toMatchObject({
      status: "complete",
      startedFrom: "telegram",
      backend: "claude",
      currentStep: 3,
      totalSteps: 3,
      progress: 1,
      outputPath: join(artifactsDir, `${taskId}.md`),
    });
    expect(done.backendReason).toMatch(/^claude: warm, queue 0/);
    // The subscriber's first sight of the task already says where it goes and why.
    expect(firstSeen).toMatchObject({ status: "queued", backend: "claude" });
    expect(firstSeen?.backendReason).toMatch(/^claude: warm, queue 0/);
    const output = await readFile(join(artifactsDir, `${taskId}.md`), "utf8");
    expect(output).toContain("# Analyze the trust documents");
    expect(output.indexOf("## 1. Gather\n\necho: gather the documents")).toBeGreaterThan(0);
    expect(output.indexOf("## 2. Compare\n\necho: compare the clauses")).toBeGreaterThan(output.indexOf("## 1."));
    expect(output.indexOf("## 3. Summarize\n\necho: summarize the findings")).toBeGreaterThan(output.indexOf("## 2."));

    await expect
      .poll(() => seen[seen.length - 1]?.status === "complete", {
        timeout: 5000,
        message: "the mirror to see completion",
      })
      .toBeTruthy();
    expect(seen[0]).toMatchObject({ status: "queued", currentStep: 0, lastUpdate: "queued on claude" });
    const milestones = seen.map((s) => s.lastUpdate).filter((u) => / (started|done): /.test(u));
    expect(milestones).toEqual([
      "step 1 of 3 started: Gather",
      "step 1 of 3 done: Gather",
      "step 2 of 3 started: Compare",
      "step 2 of 3 done: Compare",
      "step 3 of 3 started: Summarize",
      "step 3 of 3 done: Summarize",
    ]);
    // Each step's completion moves progress on and gives an ETA extrapolated from it.
    const firstDone = seen.find((s) => s.lastUpdate === "step 1 of 3 done: Gather");
    expect(firstDone).toMatchObject({ currentStep: 1, progress: 1 / 3 });
    expect(Date.parse(firstDone?.eta ?? "")).toBeGreaterThan(Date.parse(done.startedAt));
    expect(seen.find((s) => s.lastUpdate === "step 2 of 3 done: Compare")).toMatchObject({ progress: 2 / 3 });
    // Streamed output reached lastUpdate while steps ran, between their start and end.
    const streamedIndex = seen.findIndex((s) => s.lastUpdate.startsWith("step 2 of 3: echo"));
    expect(streamedIndex).toBeGreaterThan(seen.findIndex((s) => s.lastUpdate === "step 2 of 3 started: Compare"));
    expect(streamedIndex).toBeLessThan(seen.findIndex((s) => s.lastUpdate === "step 2 of 3 done: Compare"));
  });

  it("without steps is one step whose prompt is the description, written to the requested outputPath", async () => {
    const { hub, client, artifactsDir } = await routerHub({});
    const { taskId } = await client.route({
      description: "Draft the reply to the landlord",
      startedFrom: "voice",
      outputPath: "letters/landlord.md",
    });
    const queued = taskOf(hub, taskId);
    expect(queued.plan.steps).toEqual([
      { title: "Draft the reply to the landlord", prompt: "Draft the reply to the landlord", requiresApproval: false },
    ]);
    await finishedTask(hub, taskId);
    expect(await readFile(join(artifactsDir, "letters", "landlord.md"), "utf8")).toBe(
      "echo: Draft the reply to the landlord\n",
    );
    expect(hub.taskContext.getChannelState("voice").lastTaskId).toBe(taskId);
  });

  it("refuses an outputPath outside the artifacts directory, and registers nothing", async () => {
    const { hub, client } = await routerHub({});
    for (const outputPath of ["../escape.md", "/etc/passwd", "a/../../b.md"]) {
      const error = await refusal(client.route({ description: "Sneaky", startedFrom: "cli", outputPath }));
      expect(error.status).toBe(400);
      expect(error.message).toContain("outputPath");
    }
    expect(hub.taskContext.getContext().activeTasks).toEqual([]);
  });

  it("a malformed request is 400 naming the field, with no backend configured it is 503, and neither registers anything", async () => {
    const { hub, client } = await routerHub({});
    const bad = await refusal(
      client.request("POST", "/api/route", { description: "x", startedFrom: "cli", priority: "high" }),
    );
    expect(bad.status).toBe(400);
    expect(bad.message).toContain('unknown field "priority"');
    const noChannel = await refusal(client.request("POST", "/api/route", { description: "x" }));
    expect(noChannel.message).toContain("startedFrom");

    const empty = await routerHub({ backends: {} });
    const unavailable = await refusal(empty.client.route({ description: "Anyone?", startedFrom: "cli" }));
    expect(unavailable.status).toBe(503);
    expect(unavailable.message).toContain("no backends are configured");
    expect(hub.taskContext.getContext().activeTasks).toEqual([]);
    expect(empty.hub.taskContext.getContext().activeTasks).toEqual([]);
  });

  it("once the router is stopping, a new task and a follow-up are 503 saying to send them again, and register nothing", async () => {
    const { hub, client } = await routerHub({});
    await hub.router.stop();
    const task = await refusal(client.route({ description: "Too late", startedFrom: "cli" }));
    expect(task.status).toBe(503);
    expect(task.message).toBe("the hub is shutting down; send the task again once it is back");
    const followUp = await refusal(
      client.request("POST", "/api/context/tasks/route_any/messages", { text: "and the 2023 ones", channel: "cli" }),
    );
    expect(followUp.status).toBe(503);
    expect(followUp.message).toBe("the hub is shutting down; send the follow-up again once it is back");
    expect(hub.taskContext.getContext().activeTasks).toEqual([]);
  });

  it("runs on Ollama through /api/chat streaming", async () => {
    ollama = await startFakeOllama({ models: ["llama3.2"], reply: "local answer", chunks: 2 });
    const { hub, client, artifactsDir } = await routerHub({
      backends: { ollama: { kind: "ollama", url: ollama.url, model: "llama3.2" } },
    });
    const { taskId } = await client.route({ description: "Summarize my notes", startedFrom: "cli" });
    await finishedTask(hub, taskId);
    expect(hub.taskContext.getActiveTask(taskId)).toMatchObject({ status: "complete", backend: "ollama" });
    expect(await readFile(join(artifactsDir, `${taskId}.md`), "utf8")).toBe("local answer\n");
    const chats = ollama.calls.filter((c) => c.path === "/api/chat");
    expect(chats.map((c) => c.body?.messages)).toEqual([[{ role: "user", content: "Summarize my notes" }]]);
  });
});

describe("choosing a backend", () => {
  it("never chooses a dead backend, and an explicit ask for it is 409 with the reason", async () => {
    const { hub, client } = await routerHub({
      backends: { claude: { kind: "claude", preference: 9, command: "no-such-claude" }, codex: { kind: "codex" } },
    });
    expect(hub.warmStandby.getHealth("claude")).toMatchObject({ status: "dead", reason: "not installed" });

    const { taskId } = await client.route({ description: "Refactor the parser", startedFrom: "slack" });
    expect(taskOf(hub, taskId)).toMatchObject({ backend: "codex", backendReason: "codex: warm, queue 0" });

    const before = hub.taskContext.getContext().activeTasks.length;
    const error = await refusal(
      client.route({ description: "On claude please", startedFrom: "cli", backend: "claude" }),
    );
    expect(error.status).toBe(409);
    expect(error.message).toContain("backend claude is dead (not installed)");
    expect(hub.taskContext.getContext().activeTasks.length).toBe(before);
  });

  it("an explicit healthy backend wins over the preferred one", async () => {
    const { hub, client } = await routerHub({ backends: CLAUDE_AND_CODEX });
    const { taskId } = await client.route({ description: "Use codex", startedFrom: "cli", backend: "codex" });
    expect(taskOf(hub, taskId)).toMatchObject({ backend: "codex", backendReason: "codex: warm, queue 0, as asked" });
    await finishedTask(hub, taskId);
  });
});

describe("queues", () => {
  it("a backend runs router.concurrency tasks at once and queues the rest in order", async () => {
    const { hub, client, log } = await routerHub({ modes: { FAKE_CLI_HANG: "run" }, router: { concurrency: 2 } });
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await client.route({ description: `Job ${n}`, startedFrom: "cli" })).taskId);
    await expect
      .poll(async () => (await runCalls(log)).length === 2, { timeout: 10_000, message: "two runs" })
      .toBeTruthy();
    await expect
      .poll(() => ids.slice(0, 2).every((id) => taskOf(hub, id).status === "running"), {
        timeout: 5000,
        message: "two running",
      })
      .toBeTruthy();
    expect(taskOf(hub, ids[2] as string).status).toBe("queued");
    expect(hub.router.dispatchEstimates().claude?.map((e) => e.taskId)).toEqual([ids[2]]);

    await client.cancel(ids[0] as string);
    await expect
      .poll(() => taskOf(hub, ids[2] as string).status === "running", {
        timeout: 10_000,
        message: "the third to start",
      })
      .toBeTruthy();
    await expect
      .poll(async () => (await runCalls(log)).length === 3, { timeout: 10_000, message: "its run" })
      .toBeTruthy();
  });
});

describe("dispatch estimates", () => {
  it("a queued task's estimated start, from the running task's steps, schedules the automatic pre-warm ahead of it", async () => {
    const clock = new ManualClock();
    const { hub, client } = await routerHub({
      clock,
      modes: { FAKE_CLI_HANG: "run" },
      router: { estimatedStepMs: 60_000 },
      warmup: { autoPrewarm: true, autoPrewarmLeadMs: 30_000 },
    });
    const running = await client.route({ description: "Long job", startedFrom: "cli" });
    await expect
      .poll(() => taskOf(hub, running.taskId).status === "running", {
        timeout: 10_000,
        message: "the first task to run",
      })
      .toBeTruthy();
    const queued = await client.route({ description: "Next job", startedFrom: "cli" });

    expect(hub.router.dispatchEstimates().claude).toEqual([{ taskId: queued.taskId, at: clock.now() + 60_000 }]);
    clock.advance(29_999);
    expect(hub.warmStandby.getHealth("claude").prewarmed).toEqual([]);
    clock.advance(1);
    expect(hub.warmStandby.getHealth("claude").prewarmed).toHaveLength(1);
    await expect
      .poll(() => hub.warmStandby.getHealth("claude").prewarmed[0]?.state === "ready", {
        timeout: 10_000,
        message: "ready",
      })
      .toBeTruthy();

    // When the running task ends, the queued one starts on the session pre-warmed for it.
    await client.cancel(running.taskId);
    await expect
      .poll(() => taskOf(hub, queued.taskId).status === "running", {
        timeout: 10_000,
        message: "the queued task to start",
      })
      .toBeTruthy();
    expect(taskOf(hub, queued.taskId).start).toBe("warm");
  });
});

describe("failures", () => {
  it("an unreachable Ollama fails the task with a readable error", async () => {
    ollama = await startFakeOllama({ models: ["llama3.2"] });
    const { hub, client } = await routerHub({
      backends: { ollama: { kind: "ollama", url: ollama.url, model: "llama3.2" } },
    });
    await ollama.close();
    const { taskId } = await client.route({ description: "Nobody home", startedFrom: "cli" });
    await finishedTask(hub, taskId);
    expect((hub.taskContext.getActiveTask(taskId) as Task).error).toMatch(
      /^step 1 of 1 \(Nobody home\) failed on ollama: unreachable: http:\/\/127\.0\.0\.1:\d+\/api\/chat: ECONNREFUSED$/,
    );
  });

  it("a backend exiting non-zero fails the task with a readable error", async () => {
    const { hub, client } = await routerHub({ modes: { FAKE_CLI_FAIL: "run" } });
    const { taskId } = await client.route({ description: "Doomed", startedFrom: "cli" });
    await finishedTask(hub, taskId);
    const task = hub.taskContext.getActiveTask(taskId) as Task;
    expect(task.status).toBe("failed");
    expect(task.error).toBe(
      "step 1 of 1 (Doomed) failed on claude: claude exited with status 2 before answering: claude: the fake was told to fail run",
    );
  });

  it("with retryOnFailure, a failed step runs again once on the next-best backend", async () => {
    const { hub, client, log, artifactsDir } = await routerHub({
      backends: CLAUDE_AND_CODEX,
      modes: { FAKE_CLAUDE_FAIL: "run" },
      router: { retryOnFailure: true },
    });
    const { taskId } = await client.route({ description: "Try twice", startedFrom: "cli" });
    expect(taskOf(hub, taskId).backend).toBe("claude");
    await finishedTask(hub, taskId);

    const task = hub.taskContext.getActiveTask(taskId) as Task;
    expect(task).toMatchObject({ status: "complete", backend: "codex" });
    expect(task.backendReason).toBe("retry after claude failed; codex: warm, queue 0");
    expect(await readFile(join(artifactsDir, `${taskId}.md`), "utf8")).toBe("echo: Try twice\n");
    expect((await runCalls(log)).map((c) => c.name)).toEqual(["claude", "codex"]);
  });

  it("a step hanging past stepTimeoutMs fails with 'timed out' and leaves no process behind", async () => {
    const { hub, client, log } = await routerHub({
      modes: { FAKE_CLI_HANG: "run", FAKE_CLI_CHILD: "1" },
      router: { stepTimeoutMs: 5000 }, // long enough for the fake to start (and log itself) on a loaded machine
    });
    const { taskId } = await client.route({ description: "Hangs", startedFrom: "cli" });
    await finishedTask(hub, taskId);
    expect((hub.taskContext.getActiveTask(taskId) as Task).error).toContain("failed on claude: timed out");
    const [run] = await runCalls(log);
    expect(run).toBeDefined();
    await expect
      .poll(() => groupMembers(run?.pgid as number).length === 0, {
        timeout: 5000,
        message: "the process group to be gone",
      })
      .toBeTruthy();
  });
});

describe("approvals and control", () => {
  const steps = [
    { title: "Plan the rename", prompt: "plan it" },
    { title: "Apply the rename", prompt: "git mv payments billing", requiresApproval: true },
  ];

  it("a step that requires approval waits in pending-approval, and approve runs it to completion", async () => {
    const { hub, client, log } = await routerHub({});
    const { taskId } = await client.route({ description: "Rename payments", startedFrom: "voice", steps });
    await expect
      .poll(() => taskOf(hub, taskId).status === "pending-approval", { timeout: 10_000, message: "pending approval" })
      .toBeTruthy();
    expect(taskOf(hub, taskId)).toMatchObject({
      currentStep: 2,
      awaitingApproval: { step: 2, title: "Apply the rename", detail: "git mv payments billing" },
    });
    expect(await runCalls(log)).toHaveLength(1);

    const approved = await client.approve(taskId);
    expect(approved.approval).toMatchObject({ decision: "approved", channel: "telegram" });
    await finishedTask(hub, taskId);

    expect(hub.taskContext.getActiveTask(taskId)).toMatchObject({
      status: "complete",
      approval: { decision: "approved" },
    });
    // The approved step is the next turn of the same conversation, written to the process kept from step 1.
    expect(await runCalls(log)).toHaveLength(1);
    expect(hub.taskContext.getChannelState("telegram").lastTaskId).toBe(taskId);
  });

  it("reject fails the task with 'rejected' and the step never runs", async () => {
    const { hub, client, log } = await routerHub({});
    const { taskId } = await client.route({ description: "Rename payments", startedFrom: "voice", steps });
    await expect
      .poll(() => taskOf(hub, taskId).status === "pending-approval", { timeout: 10_000, message: "pending approval" })
      .toBeTruthy();

    await client.reject(taskId);

    expect(hub.taskContext.getActiveTask(taskId)).toMatchObject({ status: "failed", error: "rejected" });
    // A task routed now runs after anything the rejection might have resumed on the same backend:
    // once it is done, the log holds every run there was.
    const next = await client.route({ description: "Next in line", startedFrom: "voice" });
    await finishedTask(hub, next.taskId);
    expect(await runCalls(log)).toHaveLength(2);
  });

  it("cancel kills a running step's process group and fails the task with 'cancelled'; a queued task behind it never starts", async () => {
    const { hub, client, log } = await routerHub({ modes: { FAKE_CLI_HANG: "run", FAKE_CLI_CHILD: "1" } });
    const first = await client.route({ description: "Runs forever", startedFrom: "cli" });
    const second = await client.route({ description: "Waits its turn", startedFrom: "cli" });
    await expect
      .poll(async () => (await runCalls(log)).length === 1, { timeout: 10_000, message: "the first run to start" })
      .toBeTruthy();
    await expect
      .poll(() => taskOf(hub, first.taskId).status === "running", { timeout: 5000, message: "running" })
      .toBeTruthy();
    expect(taskOf(hub, second.taskId).status).toBe("queued");
    const [run] = await runCalls(log);
    // The grandchild `sleep` joins the group; wait until it is there so its death proves the group kill.
    await expect
      .poll(() => groupMembers(run?.pgid as number).length >= 2, { timeout: 5000, message: "the grandchild" })
      .toBeTruthy();

    const cancelledQueued = await client.cancel(second.taskId);
    const cancelled = await client.cancel(first.taskId);

    expect(cancelledQueued).toMatchObject({ status: "failed", error: "cancelled" });
    expect(cancelled).toMatchObject({ status: "failed", error: "cancelled" });
    await expect
      .poll(() => groupMembers(run?.pgid as number).length === 0, {
        timeout: 5000,
        message: "the process group to be killed",
      })
      .toBeTruthy();
    // A task routed now takes the freed slot only if nothing cancelled holds it (every run hangs
    // here, so a wrongly started queued task would keep it forever).
    const third = await client.route({ description: "After the cancellations", startedFrom: "cli" });
    await expect
      .poll(async () => taskOf(hub, third.taskId).status === "running" && (await runCalls(log)).length === 2, {
        timeout: 10_000,
        message: "the next task's run",
      })
      .toBeTruthy();
    expect(await runCalls(log)).toHaveLength(2);
    expect(hub.taskContext.getActiveTask(first.taskId)?.error).toBe("cancelled");
    expect((await refusal(client.cancel(`${first.taskId}x`))).status).toBe(404);
  });
});

describe("pre-warmed sessions", () => {
  it("a step runs on a ready pre-warmed session when there is one (start: warm), else cold", async () => {
    const { hub, client, log } = await routerHub({ modes: { FAKE_CLI_START_DELAY_MS: "50" } });
    const cold = await client.route({ description: "Cold start", startedFrom: "cli" });
    await finishedTask(hub, cold.taskId);
    expect(hub.taskContext.getActiveTask(cold.taskId)?.start).toBe("cold");

    const session = hub.warmStandby.preWarm("claude");
    await expect
      .poll(
        () => hub.warmStandby.getHealth("claude").prewarmed.some((s) => s.id === session.id && s.state === "ready"),
        { timeout: 10_000, message: "the session to be ready" },
      )
      .toBeTruthy();
    const warm = await client.route({ description: "Warm start", startedFrom: "cli" });
    await finishedTask(hub, warm.taskId);

    expect(hub.taskContext.getActiveTask(warm.taskId)).toMatchObject({ status: "complete", start: "warm" });
    // Two claude processes in all: the cold task's and the pre-warmed one; the warm task started none.
    expect((await runCalls(log)).length).toBe(2);
    // The used session is not handed out again: it stays busy, holding the task's conversation
    // for a follow-up, until the task leaves recentCompleted or router.conversationKeepMs passes.
    expect(hub.warmStandby.getHealth("claude").prewarmed.find((s) => s.id === session.id)?.state).toBe("busy");
  });
});
