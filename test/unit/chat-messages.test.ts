import { describe, expect, it } from "vitest";
import { createChatMessages, RateLimitedError } from "../../client/chat-messages.ts";
import { buildTask, finishTask } from "../../server/task-transitions.ts";
import { ManualClock } from "../../shared/clock.ts";
import type { Context, Task } from "../../shared/schemas.ts";

const T0 = Date.parse("2026-01-01T09:00:00.000Z");

function task(id: string, lastUpdate = ""): Task {
  return buildTask({ taskId: id, description: `Task ${id}`, startedFrom: "cli", lastUpdate }, id, T0);
}

function context(activeTasks: Task[], recentCompleted: Task[] = []): Context {
  return { lastUpdated: new Date(T0).toISOString(), activeTasks, recentCompleted, channelHistory: {} };
}

/** A transport that records every write and can be told to fail the next one. */
function recorder() {
  const writes: { kind: "send" | "edit"; destination: string; ref: number | null; view: string }[] = [];
  let nextRef = 1;
  let failNext: Error | null = null;
  return {
    writes,
    failWith(error: Error) {
      failNext = error;
    },
    transport: {
      async send(destination: string, view: string) {
        if (failNext) {
          const error = failNext;
          failNext = null;
          writes.push({ kind: "send", destination, ref: null, view });
          throw error;
        }
        writes.push({ kind: "send", destination, ref: null, view });
        return nextRef++;
      },
      async edit(destination: string, ref: number, view: string) {
        writes.push({ kind: "edit", destination, ref, view });
      },
    },
  };
}

function setUp(destinations = ["chat"]) {
  const clock = new ManualClock(T0);
  const record = recorder();
  const messages = createChatMessages<string, number>({
    destinations,
    transport: record.transport,
    render: (t) => `${t.taskId} ${t.status} ${t.lastUpdate}`,
    timers: clock,
  });
  return { clock, record, messages };
}

describe("chat messages: one per task per destination", () => {
  it("does not post the history present at start-up, only the active tasks", async () => {
    const { record, messages } = setUp();
    messages.sync(context([task("a")], [finishTask(task("old"), {}, T0)]));
    await messages.settled();
    expect(record.writes.map((w) => `${w.kind} ${w.view}`)).toEqual(["send a running "]);
  });

  it("posts, once, a task that finished out of sight after start-up", async () => {
    const { record, messages } = setUp();
    messages.sync(context([]));
    const quick = finishTask(task("quick"), { outputPath: "out.md" }, T0);
    messages.sync(context([], [quick]));
    messages.sync(context([], [quick]));
    await messages.settled();
    expect(record.writes.map((w) => `${w.kind} ${w.view}`)).toEqual(["send quick complete finished"]);
  });

  it("writes nothing when a context (a snapshot after reconnect) shows what the chat already shows", async () => {
    const { record, messages, clock } = setUp(["a", "b"]);
    messages.sync(context([task("x", "one")]));
    await messages.settled();
    clock.advance(10_000);
    messages.sync(context([task("x", "one")]));
    await messages.settled();
    expect(record.writes).toHaveLength(2);
    expect(record.writes.map((w) => w.destination)).toEqual(["a", "b"]);
  });

  it("edits the message it posted, by its reference, per destination", async () => {
    const { record, messages, clock } = setUp(["a", "b"]);
    messages.sync(context([task("x", "one")]));
    await messages.settled();
    clock.advance(1000);
    messages.sync(context([task("x", "two")]));
    await messages.settled();
    expect(record.writes.slice(2)).toEqual([
      { kind: "edit", destination: "a", ref: messages.refOf("x", "a"), view: "x running two" },
      { kind: "edit", destination: "b", ref: messages.refOf("x", "b"), view: "x running two" },
    ]);
    expect(messages.taskAt("b", messages.refOf("x", "b") as number)).toBe("x");
  });

  it("a change back to what the chat shows cancels the pending edit", async () => {
    const { record, messages, clock } = setUp();
    messages.sync(context([task("x", "one")]));
    await messages.settled();
    messages.sync(context([task("x", "two")]));
    messages.sync(context([task("x", "one")]));
    clock.advance(5000);
    await messages.settled();
    expect(record.writes).toHaveLength(1);
  });

  it("forgets a task once it has left recentCompleted", async () => {
    const { messages } = setUp();
    messages.sync(context([task("x")]));
    await messages.settled();
    expect(messages.refOf("x", "chat")).not.toBeNull();
    messages.sync(context([], []));
    expect(messages.refOf("x", "chat")).toBeNull();
  });

  it("retries a rate-limited post after retry-after, and leaves any other failure to the next change", async () => {
    const { record, messages, clock } = setUp();
    record.failWith(new RateLimitedError(2000));
    messages.sync(context([task("x", "one")]));
    await messages.settled();
    clock.advance(1999);
    await messages.settled();
    expect(record.writes).toHaveLength(1);
    clock.advance(1);
    await messages.settled();
    expect(record.writes.map((w) => w.kind)).toEqual(["send", "send"]);

    record.failWith(new Error("network down"));
    clock.advance(1000);
    messages.sync(context([task("y", "one")]));
    await messages.settled();
    clock.advance(60_000);
    await messages.settled();
    expect(record.writes.filter((w) => w.view.startsWith("y"))).toHaveLength(1);
    messages.sync(context([task("y", "two")]));
    await messages.settled();
    expect(record.writes.filter((w) => w.view.startsWith("y")).map((w) => `${w.kind} ${w.view}`)).toEqual([
      "send y running one",
      "send y running two",
    ]);
  });
});
