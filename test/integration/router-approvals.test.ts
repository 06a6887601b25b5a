// Approve, reject and cancel over REST for a task an external router publishes through the
// task-context API: the decision is recorded on the task and pushed to subscribers, replays are
// no-ops, a task in the wrong state is 409, and a refused request changes nothing.

import { afterEach, describe, expect, it } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import type { Task } from "../../shared/schemas.ts";
import { hubClient, startTestHub, type TestHub } from "../helpers/hub.ts";
import { refusal } from "../helpers/router-hub.ts";

let hub: TestHub;
let clients: HubClient[] = [];

afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  await hub?.stop();
});

async function setup(channel?: "telegram" | "slack" | "dashboard") {
  hub = await startTestHub();
  const publisher = hubClient(hub);
  const actor = hubClient(hub, channel ? { channel } : {});
  clients.push(publisher, actor);
  return { publisher, actor };
}

/** A task as an external router publishes it: waiting for approval of its second step. */
async function waitingTask(publisher: HubClient, taskId = "route_ext"): Promise<Task> {
  await publisher.addTask({
    taskId,
    description: "Rename the payments module",
    startedFrom: "voice",
    plan: { steps: [{ title: "Plan" }, { title: "Apply the rename", requiresApproval: true }] },
    currentStep: 2,
  });
  return publisher.updateTask(taskId, {
    status: "pending-approval",
    awaitingApproval: { step: 2, title: "Apply the rename", detail: "git mv payments billing" },
  }) as Promise<Task>;
}

describe("approve", () => {
  it("records the decision with the acting channel, sets the task running, and the publisher sees it pushed", async () => {
    const { publisher, actor } = await setup("telegram");
    await publisher.connect();
    await waitingTask(publisher);

    const approved = await actor.approve("route_ext");

    const at = approved.approval?.at;
    expect(approved).toMatchObject({ status: "running", awaitingApproval: null });
    expect(approved.approval).toEqual({ decision: "approved", channel: "telegram", at, step: 2 });
    await expect
      .poll(() => publisher.context?.activeTasks[0]?.approval?.decision === "approved", {
        timeout: 5000,
        message: "pushed approval",
      })
      .toBeTruthy();
    expect(publisher.context?.activeTasks[0]?.status).toBe("running");
    expect((await publisher.getChannelState("telegram")) as object).toMatchObject({ lastTaskId: "route_ext" });
  });

  it("is idempotent: approving again returns the same task and adds no version", async () => {
    const { publisher, actor } = await setup("slack");
    await waitingTask(publisher);
    const first = await actor.approve("route_ext");
    const version = hub.taskContext.document.version;

    const again = await actor.approve("route_ext");

    // The task is untouched; at most the channel's lastActive moves.
    expect(again).toEqual(first);
    expect(hub.taskContext.getActiveTask("route_ext")).toEqual(first);
    expect(hub.taskContext.document.version).toBeLessThanOrEqual(version + 1);
  });

  it("is 409 on a queued task and changes nothing", async () => {
    const { publisher, actor } = await setup("dashboard");
    await publisher.addTask({ taskId: "route_q", description: "Queued work", startedFrom: "cli", status: "queued" });
    const before = hub.taskContext.getContext();

    const error = await refusal(actor.approve("route_q"));

    expect(error.status).toBe(409);
    expect(error.message).toContain("only a task waiting for approval");
    expect(hub.taskContext.getContext()).toBe(before);
  });

  it("is 404 for an unknown task and 400 for an unknown channel", async () => {
    const { publisher } = await setup();
    await waitingTask(publisher);
    expect((await refusal(publisher.approve("route_nope"))).status).toBe(404);
    const response = await fetch(`${hub.url}/api/context/tasks/route_ext/approve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ channel: "fax" }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("channel");
    expect(hub.taskContext.getActiveTask("route_ext")?.status).toBe("pending-approval");
  });
});

describe("reject", () => {
  it("records the decision and completes the task as failed with 'rejected'", async () => {
    const { publisher, actor } = await setup("telegram");
    await waitingTask(publisher);

    const rejected = await actor.reject("route_ext");

    expect(rejected).toMatchObject({ status: "failed", error: "rejected", awaitingApproval: null });
    expect(rejected.approval).toMatchObject({ decision: "rejected", channel: "telegram" });
    expect(hub.taskContext.getContext().activeTasks).toEqual([]);
    expect(hub.taskContext.getContext().recentCompleted[0]?.taskId).toBe("route_ext");
  });

  it("carries a reason into the error, is idempotent, and approve after reject is 409", async () => {
    const { publisher, actor } = await setup("slack");
    await waitingTask(publisher);
    const rejected = await actor.reject("route_ext", "wrong module");
    expect(rejected.error).toBe("rejected: wrong module");

    const again = await actor.reject("route_ext");
    expect(again).toEqual(rejected);
    expect((await refusal(actor.approve("route_ext"))).status).toBe(409);
  });

  it("is 409 on a running task that waits for nothing", async () => {
    const { publisher, actor } = await setup();
    await publisher.addTask({ taskId: "route_run", description: "Running work", startedFrom: "cli" });
    expect((await refusal(actor.reject("route_run"))).status).toBe(409);
    expect(hub.taskContext.getActiveTask("route_run")?.status).toBe("running");
  });
});

describe("a decision is bound to the step the person saw", () => {
  it("refuses (409) an approval or rejection naming a step that is not the one waiting, and changes nothing", async () => {
    const { publisher, actor } = await setup("dashboard");
    await waitingTask(publisher);
    const before = hub.taskContext.getContext();

    const early = await refusal(actor.approve("route_ext", 1));
    const late = await refusal(actor.reject("route_ext", "no", 3));

    expect([early.status, late.status]).toEqual([409, 409]);
    expect(early.message).toContain("waits for a decision on step 2, not step 1");
    expect(hub.taskContext.getContext()).toBe(before);
  });

  it("approves the step named when it is the one waiting, and records that step", async () => {
    const { publisher, actor } = await setup("telegram");
    await waitingTask(publisher);
    const approved = await actor.approve("route_ext", 2);
    expect(approved).toMatchObject({ status: "running", approval: { decision: "approved", step: 2 } });
    // The same press again is a replay; a press for a step that never waited is not.
    expect(await actor.approve("route_ext", 2)).toEqual(approved);
    expect((await refusal(actor.approve("route_ext", 3))).status).toBe(409);
  });

  it("clears the previous step's approval when the next step starts waiting", async () => {
    const { publisher, actor } = await setup("slack");
    await waitingTask(publisher);
    await actor.approve("route_ext", 2);
    const next = await publisher.updateTask("route_ext", {
      status: "pending-approval",
      currentStep: 3,
      totalSteps: 3,
      awaitingApproval: { step: 3, title: "Push", detail: "git push" },
    });
    expect(next.approval).toBeNull();
    // An approval of the old step cannot pass for the new one.
    expect((await refusal(actor.approve("route_ext", 2))).status).toBe(409);
    expect(hub.taskContext.getActiveTask("route_ext")?.status).toBe("pending-approval");
  });
});

describe("cancel", () => {
  it("fails a queued, running or waiting task with 'cancelled', and a replay is a no-op", async () => {
    const { publisher, actor } = await setup("dashboard");
    await publisher.addTask({ taskId: "route_a", description: "Queued", startedFrom: "cli", status: "queued" });
    await publisher.addTask({ taskId: "route_b", description: "Running", startedFrom: "cli" });
    await waitingTask(publisher, "route_c");

    for (const id of ["route_a", "route_b", "route_c"]) {
      const cancelled = await actor.cancel(id);
      expect(cancelled).toMatchObject({ taskId: id, status: "failed", error: "cancelled" });
      expect(await actor.cancel(id)).toEqual(cancelled);
    }
    expect(hub.taskContext.getContext().activeTasks).toEqual([]);
    expect(hub.taskContext.getChannelState("dashboard").lastTaskId).toBe("route_c");
  });

  it("is 409 on a task that already finished", async () => {
    const { publisher, actor } = await setup();
    await publisher.addTask({ taskId: "route_done", description: "Done", startedFrom: "cli" });
    await publisher.completeTask("route_done", { result: "ok" });
    const error = await refusal(actor.cancel("route_done"));
    expect(error.status).toBe(409);
    expect(error.message).toContain("already complete");
  });
});
