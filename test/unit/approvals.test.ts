// Approve, reject and cancel as changes of the context document: each action is exactly one change
// (the task's new state and the acting channel marked active together), a replay is one change
// that marks the channel only, and a refused action changes nothing.
import { beforeEach, describe, expect, test } from "vitest";
import { createApprovals } from "../../server/approvals.ts";
import { createTaskContext, type TaskContext } from "../../server/task-context.ts";
import { ManualClock } from "../../shared/clock.ts";
import type { Context, JsonPatchOperation } from "../../shared/schemas.ts";

let taskContext: TaskContext;
let approvals: ReturnType<typeof createApprovals>;
let changes: { version: number; ops: JsonPatchOperation[]; after: Context }[];

beforeEach(async () => {
  taskContext = createTaskContext({ clock: new ManualClock("2026-03-01T12:00:00.000Z") });
  approvals = createApprovals(taskContext);
  await taskContext.addTask({
    taskId: "push",
    description: "Push the release",
    startedFrom: "voice",
    status: "pending-approval",
  });
  await taskContext.addTask({ taskId: "ocr", description: "OCR", startedFrom: "telegram" });
  changes = [];
  taskContext.document.subscribe((change, after) => changes.push({ version: change.version, ops: change.ops, after }));
});

describe("each action is one change", () => {
  test("reject: the decision, the failure and the channel arrive in one version", async () => {
    const before = taskContext.document.version;
    const task = await approvals.rejectTask("push", { channel: "slack", reason: "not today" });
    expect(changes.map((c) => c.version)).toEqual([before + 1]);
    const after = changes[0]?.after as Context;
    expect(after.activeTasks.map((t) => t.taskId)).toEqual(["ocr"]);
    expect(after.recentCompleted[0]).toMatchObject({
      taskId: "push",
      status: "failed",
      error: "rejected: not today",
      approval: { decision: "rejected", channel: "slack" },
    });
    expect(after.channelHistory.slack?.lastTaskId).toBe("push");
    expect(task).toEqual(after.recentCompleted[0]);
  });

  test("approve: running, the decision and the channel in one version", async () => {
    const before = taskContext.document.version;
    await approvals.approveTask("push", { channel: "dashboard" });
    expect(changes.map((c) => c.version)).toEqual([before + 1]);
    const after = changes[0]?.after as Context;
    expect(after.activeTasks.find((t) => t.taskId === "push")).toMatchObject({
      status: "running",
      approval: { decision: "approved", channel: "dashboard" },
      awaitingApproval: null,
    });
    expect(after.channelHistory.dashboard?.lastTaskId).toBe("push");
  });

  test("cancel: the failure and the channel in one version", async () => {
    const before = taskContext.document.version;
    await approvals.cancelTask("ocr", { channel: "cli" });
    expect(changes.map((c) => c.version)).toEqual([before + 1]);
    expect(changes[0]?.after.recentCompleted[0]).toMatchObject({ taskId: "ocr", error: "cancelled" });
    expect(changes[0]?.after.channelHistory.cli?.lastTaskId).toBe("ocr");
  });

  test("a replayed reject marks the channel and changes the task no more", async () => {
    await approvals.rejectTask("push", { channel: "slack" });
    const [rejected] = changes;
    changes = [];
    await approvals.rejectTask("push", { channel: "telegram" });
    expect(changes).toHaveLength(1);
    expect(changes[0]?.after.recentCompleted).toEqual(rejected?.after.recentCompleted);
    expect(changes[0]?.after.channelHistory.telegram?.lastTaskId).toBe("push");
  });

  test("a refused action (approving a running task) changes nothing", async () => {
    await expect(approvals.approveTask("ocr", {})).rejects.toMatchObject({ status: 409 });
    expect(changes).toEqual([]);
  });
});
