// The task-context API, function by function, on a hand-driven clock and a real durable file.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VersionedDocument } from "../../server/document.ts";
import { DurableJsonFile } from "../../server/durable-file.ts";
import { SwitchboardError } from "../../server/errors.ts";
import { createTaskContext, emptyContext, type TaskContext } from "../../server/task-context.ts";
import { estimateEta, stepProgress } from "../../server/task-transitions.ts";
import { ManualClock } from "../../shared/clock.ts";
import type { Context } from "../../shared/schemas.ts";

const START = "2026-01-01T09:00:00.000Z";
const MINUTE = 60_000;

let dir: string;
let clock: ManualClock;
let file: DurableJsonFile;
let taskContext: TaskContext;

function makeTaskContext(options: { recentLimit?: number } = {}): TaskContext {
  file = new DurableJsonFile(join(dir, "active-context.json"));
  const document = new VersionedDocument<Context>({ initial: emptyContext(clock.now()), file });
  return createTaskContext({ document, clock, ...options });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-task-context-"));
  clock = new ManualClock(START);
  taskContext = makeTaskContext();
});

afterEach(async () => {
  await file.close();
  await rm(dir, { recursive: true, force: true });
});

/** Expects `call` to be refused with `code`, and the document and its file to be untouched. */
async function expectRefused(call: () => Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await file.flush();
  const version = taskContext.document.version;
  const state = taskContext.getContext();
  const writes = file.writes;
  const onDisk = await readFile(file.path, "utf8").catch(() => null);
  const error = await call().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SwitchboardError);
  expect((error as SwitchboardError).code).toBe(code);
  if (message) expect((error as SwitchboardError).message).toMatch(message);
  await file.flush();
  expect(taskContext.document.version).toBe(version);
  expect(taskContext.getContext()).toBe(state);
  expect(file.writes).toBe(writes);
  expect(await readFile(file.path, "utf8").catch(() => null)).toBe(onDisk);
}

describe("addTask", () => {
  it("generates a route_ id when none is given, and a different one each time", async () => {
    const a = await taskContext.addTask({ description: "Analyze trust documents", startedFrom: "voice" });
    const b = await taskContext.addTask({ description: "Analyze trust documents", startedFrom: "voice" });
    expect(a.taskId).toMatch(/^route_[A-Za-z0-9_]+$/);
    expect(b.taskId).toMatch(/^route_[A-Za-z0-9_]+$/);
    expect(a.taskId).not.toBe(b.taskId);
  });

  it("keeps a given taskId, sets startedAt and updatedAt from the clock and the defaults of a new task", async () => {
    const task = await taskContext.addTask({
      taskId: "route_t1",
      description: "Draft the memo",
      startedFrom: "telegram",
    });
    expect(task).toEqual({
      taskId: "route_t1",
      description: "Draft the memo",
      status: "running",
      plan: { steps: [] },
      currentStep: 0,
      totalSteps: 0,
      startedFrom: "telegram",
      startedAt: START,
      eta: null,
      lastUpdate: "",
      outputPath: null,
      progress: 0,
      etaSource: null,
      updatedAt: START,
    });
    expect(taskContext.getContext().activeTasks).toEqual([task]);
    expect(taskContext.getContext().lastUpdated).toBe(START);
  });

  it("records the starting channel in channelHistory with lastActive and lastTaskId", async () => {
    clock.advance(5 * MINUTE);
    await taskContext.addTask({ taskId: "t1", description: "Summarize", startedFrom: "slack" });
    expect(taskContext.getContext().channelHistory).toEqual({
      slack: { lastActive: "2026-01-01T09:05:00.000Z", lastTaskId: "t1" },
    });
  });

  it("takes totalSteps from the plan when not given", async () => {
    const task = await taskContext.addTask({
      description: "Three steps",
      startedFrom: "cli",
      plan: { steps: [{ title: "read" }, { title: "write" }, { title: "check" }] },
    });
    expect(task.totalSteps).toBe(3);
  });

  it("is idempotent: the same task added twice is one task, one version, and the replay answers the original", async () => {
    const input = { taskId: "t1", description: "Summarize", startedFrom: "cli" as const };
    const first = await taskContext.addTask(input);
    const version = taskContext.document.version;
    const writes = file.writes;
    clock.advance(MINUTE);
    const replay = await taskContext.addTask(input);
    expect(replay).toEqual(first);
    expect(taskContext.getContext().activeTasks).toHaveLength(1);
    expect(taskContext.document.version).toBe(version);
    // The original was already durable, so the replay costs no write.
    expect(file.writes).toBe(writes);
  });

  it("answers a replay of a task that has since finished with the finished task", async () => {
    await taskContext.addTask({ taskId: "t1", description: "Summarize", startedFrom: "cli" });
    await taskContext.completeTask("t1", { result: "done" });
    const replay = await taskContext.addTask({ taskId: "t1", description: "Summarize", startedFrom: "cli" });
    expect(replay.status).toBe("complete");
    expect(taskContext.getContext().activeTasks).toEqual([]);
  });

  it("refuses a different task under an existing id as a conflict, changing and writing nothing", async () => {
    await taskContext.addTask({ taskId: "t1", description: "Summarize", startedFrom: "cli" });
    await expectRefused(
      () => taskContext.addTask({ taskId: "t1", description: "Something else", startedFrom: "cli" }),
      "conflict",
      /already has the id t1/,
    );
    await expectRefused(
      () => taskContext.addTask({ taskId: "t1", description: "Summarize", startedFrom: "voice" }),
      "conflict",
    );
  });

  it.each([
    ["kind", { kind: "code" }, { kind: "research" }],
    ["status", { status: "queued" }, { status: "running" }],
    ["outputPath", { outputPath: "artifacts/a.md" }, { outputPath: "artifacts/b.md" }],
    ["lastUpdate", {}, { lastUpdate: "step 1 started" }],
    ["totalSteps", { totalSteps: 3 }, {}],
  ])(
    "refuses a replay whose %s differs from the add that created the task (409), changing nothing",
    async (field, first, replay) => {
      const base = { taskId: "t1", description: "Summarize", startedFrom: "cli" as const };
      await taskContext.addTask({ ...base, ...first });
      await expectRefused(
        () => taskContext.addTask({ ...base, ...replay }),
        "conflict",
        new RegExp(`already has the id t1 \\(${field} differ`),
      );
      // The identical request is still a replay.
      expect((await taskContext.addTask({ ...base, ...first })).taskId).toBe("t1");
    },
  );

  it("refuses invalid tasks with a message naming the field, changing and writing nothing", async () => {
    await taskContext.addTask({ taskId: "t0", description: "first", startedFrom: "cli" });
    await expectRefused(
      () => taskContext.addTask({ description: "x", startedFrom: "fax" }),
      "invalid_input",
      /startedFrom/,
    );
    await expectRefused(() => taskContext.addTask({ startedFrom: "cli" }), "invalid_input", /description/);
    await expectRefused(
      () => taskContext.addTask({ description: "x", startedFrom: "cli", colour: "red" }),
      "invalid_input",
      /unknown field "colour"/,
    );
    await expectRefused(
      () => taskContext.addTask({ description: "x", startedFrom: "cli", status: "complete" }),
      "invalid_input",
      /status/,
    );
    await expectRefused(
      () => taskContext.addTask({ description: "x", startedFrom: "cli", currentStep: 3, totalSteps: 2 }),
      "invalid_input",
      /currentStep must be between 0 and totalSteps \(2\), got 3/,
    );
    await expectRefused(
      () => taskContext.addTask({ taskId: "bad id!", description: "x", startedFrom: "cli" }),
      "invalid_input",
    );
  });
});

describe("plans", () => {
  it("keeps the router's own plan object as it is and reads its steps when they are a list of titled steps", async () => {
    const plan = {
      steps: [
        { title: "Read", tool: "ocr", retries: 2 },
        { title: "Summarize", prompt: "in 5 lines" },
      ],
      owner: "my-router",
      budget: { tokens: 5000 },
    };
    const task = await taskContext.addTask({ taskId: "t1", description: "Analyze", startedFrom: "cli", plan });
    expect(task.plan).toEqual(plan);
    expect(task.totalSteps).toBe(2);
    expect(JSON.parse(await readFile(file.path, "utf8")).activeTasks[0].plan).toEqual(plan);
    const replanned = await taskContext.updateTask("t1", { plan: { steps: [{ title: "Only" }], revision: 2 } });
    expect(replanned).toMatchObject({ plan: { steps: [{ title: "Only" }], revision: 2 }, totalSteps: 1 });
  });

  it("keeps a plan whose steps it does not understand, counting no steps", async () => {
    for (const [index, plan] of [
      { steps: ["read", "summarize"] },
      { steps: "read then summarize" },
      { stages: [{ name: "read" }] },
      {},
    ].entries()) {
      const task = await taskContext.addTask({ taskId: `t${index}`, description: "Analyze", startedFrom: "cli", plan });
      expect(task).toMatchObject({ plan, totalSteps: 0 });
    }
    const counted = await taskContext.addTask({
      taskId: "t9",
      description: "Analyze",
      startedFrom: "cli",
      plan: { steps: ["read", "summarize"] },
      totalSteps: 2,
    });
    expect(counted.totalSteps).toBe(2);
  });

  it("refuses a plan that is not a JSON object, or larger than its limit, changing and writing nothing", async () => {
    await taskContext.addTask({ taskId: "t0", description: "first", startedFrom: "cli" });
    for (const plan of [["read"], "read", 3]) {
      await expectRefused(
        () => taskContext.addTask({ description: "x", startedFrom: "cli", plan }),
        "invalid_input",
        /plan/,
      );
    }
    await expectRefused(
      () => taskContext.addTask({ description: "x", startedFrom: "cli", plan: { notes: "x".repeat(2_100_000) } }),
      "invalid_input",
      /the plan is larger than 2100000 characters as JSON/,
    );
    await expectRefused(() => taskContext.updateTask("t0", { plan: { when: new Date() } }), "invalid_input", /plan/);
  });
});

describe("getActiveTask", () => {
  it("finds a task while active and after it finished, and answers null for an unknown id", async () => {
    await taskContext.addTask({ taskId: "t1", description: "Summarize", startedFrom: "cli" });
    expect(taskContext.getActiveTask("t1")?.status).toBe("running");
    await taskContext.completeTask("t1");
    expect(taskContext.getActiveTask("t1")?.status).toBe("complete");
    expect(taskContext.getActiveTask("nope")).toBeNull();
  });
});

describe("updateTask", () => {
  beforeEach(async () => {
    await taskContext.addTask({ taskId: "t1", description: "Analyze", startedFrom: "voice", totalSteps: 4 });
  });

  it("applies a partial update and sets updatedAt and lastUpdated to now, keeping startedAt", async () => {
    clock.advance(2 * MINUTE);
    const updated = await taskContext.updateTask("t1", { status: "queued", lastUpdate: "waiting for a backend" });
    expect(updated).toMatchObject({
      status: "queued",
      lastUpdate: "waiting for a backend",
      description: "Analyze",
      startedAt: START,
      updatedAt: "2026-01-01T09:02:00.000Z",
    });
    expect(taskContext.getContext().lastUpdated).toBe("2026-01-01T09:02:00.000Z");
    expect(taskContext.getActiveTask("t1")).toEqual(updated);
  });

  it("accepts every active status", async () => {
    for (const status of ["pending-approval", "queued", "running"] as const) {
      expect((await taskContext.updateTask("t1", { status })).status).toBe(status);
    }
  });

  it("accepts step numbers from 0 up to totalSteps", async () => {
    expect((await taskContext.updateTask("t1", { currentStep: 0 })).currentStep).toBe(0);
    expect((await taskContext.updateTask("t1", { currentStep: 4 })).currentStep).toBe(4);
  });

  it("refuses an unknown status, a result without a final status, steps out of range, unknown fields and an empty update, changing and writing nothing", async () => {
    await expectRefused(() => taskContext.updateTask("t1", { status: "done" }), "invalid_input", /status/);
    await expectRefused(
      () => taskContext.updateTask("t1", { status: "running", result: "half" }),
      "invalid_input",
      /result and error finish a task: send them with status "complete" or "failed"/,
    );
    await expectRefused(() => taskContext.updateTask("t1", { error: "oops" }), "invalid_input", /result and error/);
    await expectRefused(
      () => taskContext.updateTask("t1", { currentStep: 5 }),
      "invalid_input",
      /between 0 and totalSteps \(4\)/,
    );
    await expectRefused(() => taskContext.updateTask("t1", { currentStep: -1 }), "invalid_input", /currentStep/);
    await expectRefused(() => taskContext.updateTask("t1", { currentStep: 1.5 }), "invalid_input", /currentStep/);
    await expectRefused(() => taskContext.updateTask("t1", { totalSteps: 0, currentStep: 1 }), "invalid_input");
    await expectRefused(
      () => taskContext.updateTask("t1", { startedAt: START }),
      "invalid_input",
      /unknown field "startedAt"/,
    );
    await expectRefused(() => taskContext.updateTask("t1", {}), "invalid_input", /the update is empty/);
    await expectRefused(() => taskContext.updateTask("t1", "step 2"), "invalid_input");
  });

  it('finishes the task exactly as completeTask does when the status is "complete", in one change', async () => {
    await taskContext.updateTask("t1", { currentStep: 2 });
    const twin = await taskContext.addTask({
      taskId: "t2",
      description: "Analyze",
      startedFrom: "voice",
      totalSteps: 4,
    });
    await taskContext.updateTask("t2", { currentStep: 2 });
    clock.advance(MINUTE);
    const version = taskContext.document.version;
    const byUpdate = await taskContext.updateTask("t1", { status: "complete", result: { pages: 12 } });
    expect(taskContext.document.version).toBe(version + 1);
    const byComplete = await taskContext.completeTask(twin.taskId, { result: { pages: 12 } });
    expect({ ...byUpdate, taskId: "x" }).toEqual({ ...byComplete, taskId: "x" });
    expect(byUpdate).toMatchObject({ status: "complete", progress: 1, currentStep: 4, result: { pages: 12 } });
    expect(taskContext.getContext().activeTasks).toEqual([]);
    expect(taskContext.getContext().recentCompleted.map((t) => t.taskId)).toEqual(["t2", "t1"]);
    expect(JSON.parse(await readFile(file.path, "utf8")).recentCompleted[1]).toEqual(byUpdate);
  });

  it('finishes the task as failed with its error when the status is "failed", applying the other fields first', async () => {
    const failed = await taskContext.updateTask("t1", {
      status: "failed",
      error: "the scanner is offline",
      outputPath: "artifacts/partial.md",
    });
    expect(failed).toMatchObject({
      status: "failed",
      error: "the scanner is offline",
      lastUpdate: "failed: the scanner is offline",
      outputPath: "artifacts/partial.md",
    });
    expect(taskContext.getContext().recentCompleted[0]).toEqual(failed);
    await expectRefused(() => taskContext.updateTask("t1", { status: "running" }), "conflict", /already failed/);
  });

  it("refuses an unknown task as not found", async () => {
    await expectRefused(() => taskContext.updateTask("nope", { lastUpdate: "x" }), "not_found", /no task with id nope/);
  });

  it("refuses to update a completed task as a conflict", async () => {
    await taskContext.completeTask("t1", { result: "ok" });
    await expectRefused(() => taskContext.updateTask("t1", { lastUpdate: "again" }), "conflict", /already complete/);
  });

  it("derives progress from steps when the publisher gives none: the steps before the current one are done", async () => {
    expect((await taskContext.updateTask("t1", { currentStep: 1 })).progress).toBe(0);
    expect((await taskContext.updateTask("t1", { currentStep: 3 })).progress).toBe(0.5);
    expect((await taskContext.updateTask("t1", { currentStep: 3, progress: 0.7 })).progress).toBe(0.7);
  });

  it("estimates an ETA from elapsed time and progress when the publisher gives none", async () => {
    clock.advance(10 * MINUTE);
    // Two of four steps done after 10 minutes: 10 more minutes to go.
    const task = await taskContext.updateTask("t1", { currentStep: 3 });
    expect(task.eta).toBe("2026-01-01T09:20:00.000Z");
    expect(task.etaSource).toBe("estimate");
  });

  it("keeps a publisher's ETA over the estimate until the publisher clears it", async () => {
    clock.advance(10 * MINUTE);
    await taskContext.updateTask("t1", { eta: "2026-01-01T12:00:00.000Z" });
    const later = await taskContext.updateTask("t1", { currentStep: 3 });
    expect(later.eta).toBe("2026-01-01T12:00:00.000Z");
    expect(later.etaSource).toBe("publisher");
    const cleared = await taskContext.updateTask("t1", { eta: null });
    expect(cleared.eta).toBeNull();
    expect(cleared.etaSource).toBeNull();
  });
});

describe("completeTask", () => {
  it("marks the task complete with completedAt and its result, and moves it to the front of recentCompleted", async () => {
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "cli", totalSteps: 2 });
    await taskContext.addTask({ taskId: "t2", description: "second", startedFrom: "cli" });
    await taskContext.completeTask("t1", { result: "all good" });
    clock.advance(MINUTE);
    const done = await taskContext.completeTask("t2", { result: "fine too", outputPath: "artifacts/t2.md" });
    expect(done).toMatchObject({
      status: "complete",
      completedAt: "2026-01-01T09:01:00.000Z",
      result: "fine too",
      outputPath: "artifacts/t2.md",
      progress: 1,
      eta: null,
    });
    const context = taskContext.getContext();
    expect(context.activeTasks).toEqual([]);
    expect(context.recentCompleted.map((t) => t.taskId)).toEqual(["t2", "t1"]);
    expect(context.recentCompleted[1]).toMatchObject({ currentStep: 2, result: "all good" });
  });

  it("marks the task failed with its error when given one", async () => {
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "cli" });
    const failed = await taskContext.completeTask("t1", { error: "claude timed out after 20 s" });
    expect(failed).toMatchObject({ status: "failed", error: "claude timed out after 20 s" });
    expect(failed.lastUpdate).toBe("failed: claude timed out after 20 s");
  });

  it("keeps a router's own result object as it is, as the seed's completeTask(taskId, result) sends it", async () => {
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "cli" });
    const result = { summary: "3 findings", files: ["a.md", "b.md"], score: 0.8, nested: { ok: true, none: null } };
    const done = await taskContext.completeTask("t1", result);
    expect(done).toMatchObject({ status: "complete", result, lastUpdate: "finished" });
    expect(JSON.parse(await readFile(file.path, "utf8")).recentCompleted[0].result).toEqual(result);
  });

  it("keeps any JSON value as the result: a string as the task's last word, a list, a number, false", async () => {
    const cases: [unknown, string][] = [
      ["all 12 pages read", "all 12 pages read"],
      [["a", "b"], "finished"],
      [42, "finished"],
      [false, "finished"],
    ];
    for (const [index, [result, lastUpdate]] of cases.entries()) {
      await taskContext.addTask({ taskId: `t${index}`, description: "first", startedFrom: "cli" });
      expect(await taskContext.completeTask(`t${index}`, result)).toMatchObject({
        status: "complete",
        result,
        lastUpdate,
      });
    }
  });

  it("reads an object made only of status, result, error and outputPath as the completion, as REST sends it", async () => {
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "cli" });
    const done = await taskContext.completeTask("t1", { status: "failed", error: "gave up", result: { tried: 3 } });
    expect(done).toMatchObject({ status: "failed", error: "gave up", result: { tried: 3 } });
  });

  it("keeps only the last 10 finished tasks, newest first", async () => {
    for (let i = 1; i <= 12; i++) {
      await taskContext.addTask({ taskId: `t${i}`, description: `task ${i}`, startedFrom: "cli" });
      await taskContext.completeTask(`t${i}`);
    }
    expect(taskContext.getContext().recentCompleted.map((t) => t.taskId)).toEqual([
      "t12",
      "t11",
      "t10",
      "t9",
      "t8",
      "t7",
      "t6",
      "t5",
      "t4",
      "t3",
    ]);
  });

  it("keeps as many finished tasks as recentLimit says", async () => {
    await file.close();
    taskContext = makeTaskContext({ recentLimit: 2 });
    for (const id of ["a", "b", "c"]) {
      await taskContext.addTask({ taskId: id, description: id, startedFrom: "cli" });
      await taskContext.completeTask(id);
    }
    expect(taskContext.getContext().recentCompleted.map((t) => t.taskId)).toEqual(["c", "b"]);
  });

  it("refuses to complete a task twice, an unknown task, or an invalid completion, changing and writing nothing", async () => {
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "cli" });
    await expectRefused(() => taskContext.completeTask("t1", { status: "running" }), "invalid_input", /status/);
    await expectRefused(
      () => taskContext.completeTask("t1", { result: "x".repeat(20_001) }),
      "invalid_input",
      /larger than 20000 characters as JSON/,
    );
    await expectRefused(
      () => taskContext.completeTask("t1", { summary: "x".repeat(20_000) }),
      "invalid_input",
      /larger than 20000 characters as JSON/,
    );
    await taskContext.completeTask("t1");
    await expectRefused(() => taskContext.completeTask("t1"), "conflict", /already complete/);
    await expectRefused(() => taskContext.completeTask("nope"), "not_found");
  });
});

describe("getChannelState and setChannelActive", () => {
  it("answers nulls for a channel never used", () => {
    expect(taskContext.getChannelState("dashboard")).toEqual({ lastActive: null, lastTaskId: null, task: null });
  });

  it("gives the channel's last task wherever it now is: active, then finished", async () => {
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "voice" });
    expect(taskContext.getChannelState("voice")).toMatchObject({
      lastActive: START,
      lastTaskId: "t1",
      task: { status: "running" },
    });
    await taskContext.completeTask("t1");
    expect(taskContext.getChannelState("voice").task).toMatchObject({ taskId: "t1", status: "complete" });
  });

  it("gives a null task once the last task has dropped out of recentCompleted", async () => {
    await file.close();
    taskContext = makeTaskContext({ recentLimit: 1 });
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "voice" });
    await taskContext.completeTask("t1");
    await taskContext.addTask({ taskId: "t2", description: "second", startedFrom: "cli" });
    await taskContext.completeTask("t2");
    expect(taskContext.getChannelState("voice")).toEqual({ lastActive: START, lastTaskId: "t1", task: null });
  });

  it("setChannelActive moves lastActive to now and keeps lastTaskId, or sets it when a task is named", async () => {
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "voice" });
    clock.advance(3 * MINUTE);
    const state = await taskContext.setChannelActive("telegram");
    expect(state).toEqual({ lastActive: "2026-01-01T09:03:00.000Z", lastTaskId: null, task: null });
    clock.advance(MINUTE);
    const checked = await taskContext.setChannelActive("telegram", { taskId: "t1" });
    expect(checked).toMatchObject({ lastActive: "2026-01-01T09:04:00.000Z", lastTaskId: "t1", task: { taskId: "t1" } });
    clock.advance(MINUTE);
    expect((await taskContext.setChannelActive("voice")).lastTaskId).toBe("t1");
    expect(taskContext.getContext().channelHistory.voice?.lastActive).toBe("2026-01-01T09:05:00.000Z");
  });

  it("refuses an unknown channel and an unknown task, changing and writing nothing", async () => {
    await expectRefused(() => taskContext.setChannelActive("fax"), "invalid_input", /channel/);
    await expectRefused(() => taskContext.setChannelActive("cli", { taskId: "nope" }), "not_found");
    expect(() => taskContext.getChannelState("fax")).toThrow(SwitchboardError);
  });
});

describe("addStep", () => {
  const step = { title: "and the 2023 files", prompt: "and the 2023 files", from: "telegram" as const };

  it("appends a step to an active task and marks the channel active, in one change", async () => {
    const task = await taskContext.addTask({
      description: "Gather",
      startedFrom: "voice",
      plan: { steps: [{ title: "a" }] },
    });
    const version = taskContext.document.version;
    const { task: updated, step: number } = await taskContext.addStep(task.taskId, { step, channel: "telegram" });
    expect(number).toBe(2);
    expect(taskContext.document.version).toBe(version + 1);
    expect(updated).toMatchObject({ status: "running", totalSteps: 2, plan: { steps: [{ title: "a" }, step] } });
    expect(taskContext.getContext().channelHistory.telegram?.lastTaskId).toBe(task.taskId);
  });

  it("reopens a finished task: back in activeTasks, queued at the new step, its finish cleared", async () => {
    const task = await taskContext.addTask({
      description: "Gather",
      startedFrom: "voice",
      plan: { steps: [{ title: "a" }] },
    });
    await taskContext.completeTask(task.taskId, { status: "failed", error: "timed out", result: "half" });
    const { task: reopened } = await taskContext.addStep(task.taskId, {
      step,
      channel: "slack",
      reopen: { backend: "codex", backendReason: "codex: warm" },
    });
    expect(reopened).toMatchObject({
      status: "queued",
      currentStep: 2,
      totalSteps: 2,
      progress: 0.5,
      backend: "codex",
    });
    for (const field of ["completedAt", "result", "error"]) expect(reopened).not.toHaveProperty(field);
    expect(taskContext.getContext().activeTasks.map((t) => t.taskId)).toEqual([task.taskId]);
    expect(taskContext.getContext().recentCompleted).toEqual([]);
  });

  it("refuses an unknown task (404) and a full plan (409), changing nothing", async () => {
    await expectRefused(
      () => taskContext.addStep("nope", { step, channel: "cli" }),
      "not_found",
      /no task with id nope/,
    );
    const steps = Array.from({ length: 100 }, (_, i) => ({ title: `s${i}` }));
    const full = await taskContext.addTask({ description: "Big", startedFrom: "cli", plan: { steps } });
    await expectRefused(
      () => taskContext.addStep(full.taskId, { step, channel: "cli" }),
      "conflict",
      /already has 100 steps/,
    );
  });
});

describe("durability of acknowledged calls", () => {
  it("resolves each mutating call only once the file on disk holds its change", async () => {
    await taskContext.addTask({ taskId: "t1", description: "first", startedFrom: "cli", totalSteps: 3 });
    expect(JSON.parse(await readFile(file.path, "utf8")).activeTasks[0].taskId).toBe("t1");
    await taskContext.updateTask("t1", { currentStep: 2 });
    expect(JSON.parse(await readFile(file.path, "utf8")).activeTasks[0].currentStep).toBe(2);
    await taskContext.completeTask("t1");
    expect(JSON.parse(await readFile(file.path, "utf8")).recentCompleted[0].status).toBe("complete");
    await taskContext.setChannelActive("dashboard");
    expect(JSON.parse(await readFile(file.path, "utf8")).channelHistory.dashboard).toBeDefined();
  });

  it("writes nothing at all for calls that are refused from the start", async () => {
    await expectRefused(() => taskContext.updateTask("nope", { lastUpdate: "x" }), "not_found");
    await expect(stat(file.path)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("the pure rules", () => {
  it.each([
    [0, 0, 0],
    [0, 4, 0],
    [1, 4, 0],
    [2, 4, 0.25],
    [4, 4, 0.75],
    [5, 4, 1],
  ])("stepProgress(current %i of %i) = %d", (current, total, progress) => {
    expect(stepProgress(current, total)).toBe(progress);
  });

  it("estimateEta has no estimate without progress, at completion, or before any time has passed", () => {
    const now = Date.parse(START) + 10 * MINUTE;
    expect(estimateEta({ startedAt: START, progress: 0 }, now)).toBeNull();
    expect(estimateEta({ startedAt: START, progress: 1 }, now)).toBeNull();
    expect(estimateEta({ startedAt: START, progress: 0.5 }, Date.parse(START))).toBeNull();
    expect(estimateEta({ startedAt: START, progress: 0.25 }, now)).toBe("2026-01-01T09:40:00.000Z");
  });

  it("estimateEta has no estimate when a tiny progress extrapolates beyond any date", () => {
    const now = Date.parse(START) + 10 * MINUTE;
    expect(estimateEta({ startedAt: START, progress: 5e-324 }, now)).toBeNull();
    expect(estimateEta({ startedAt: START, progress: 1e-12 }, now)).toBeNull();
    expect(estimateEta({ startedAt: START, progress: 1e-6 }, now)).toBe("2045-01-05T19:40:00.000Z");
  });

  it("an update with a vanishingly small progress is accepted without an ETA, not a crash", async () => {
    const task = await taskContext.addTask({ description: "OCR", startedFrom: "cli" });
    clock.advance(MINUTE);
    const updated = await taskContext.updateTask(task.taskId, { progress: 5e-324 });
    expect(updated.progress).toBe(5e-324);
    expect(updated.eta).toBeNull();
  });
});
