// The live push contract over real WebSockets: snapshot + patches reproduce the REST document,
// every subscriber sees the same frames, and resumption with `since` sends only what was missed.
import fc from "fast-check";
import jsonPatch, { type Operation } from "fast-json-patch";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as ws from "ws";
import type { Context, PatchFrame, ServerFrame, SnapshotFrame } from "../../shared/schemas.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { json, openRawSocket, type RawSocket, rawRequest } from "../helpers/raw-socket.ts";

let sockets: RawSocket[] = [];
afterEach(() => {
  for (const raw of sockets) raw.socket.terminate();
  sockets = [];
});

async function subscribed(hub: TestHub, since?: { epoch: string; version: number }): Promise<RawSocket> {
  const raw = await openRawSocket(hub.url);
  sockets.push(raw);
  raw.send(
    since
      ? { type: "subscribe", topics: ["context"], since: { context: since } }
      : { type: "subscribe", topics: ["context"] },
  );
  return raw;
}

/** Snapshot then patches, applied with an independent RFC 6902 implementation (fast-json-patch). */
function mirror(frames: ServerFrame[]): { document: unknown; version: number; epoch: string } {
  let document: unknown;
  let version = -1;
  let epoch = "";
  for (const frame of frames) {
    if (frame.type === "snapshot" && frame.topic === "context") {
      document = structuredClone(frame.data);
      version = frame.version;
      epoch = frame.epoch;
    } else if (frame.type === "patch" && frame.topic === "context") {
      expect(frame.epoch).toBe(epoch);
      expect(frame.version).toBe(version + 1);
      document = jsonPatch.applyPatch(document, frame.ops as Operation[], true, false).newDocument;
      version = frame.version;
    }
  }
  return { document, version, epoch };
}

const getContext = async (hub: TestHub) => (await rawRequest(`${hub.url}/api/context`)).body as Context;

async function mutate(hub: TestHub, method: string, path: string, body?: unknown) {
  return rawRequest(`${hub.url}${path}`, {
    method,
    headers: json,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

describe("snapshot and patches", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ config: { persistence: { fsync: false } } });
  });
  afterAll(async () => hub.stop());

  const channel = fc.constantFrom("voice", "telegram", "slack", "dashboard", "cli");
  const command = fc.oneof(
    fc.record({
      kind: fc.constant("add" as const),
      description: fc.string({ minLength: 1, maxLength: 40 }),
      channel,
      steps: fc.integer({ min: 0, max: 5 }),
    }),
    fc.record({
      kind: fc.constant("update" as const),
      pick: fc.nat(),
      step: fc.integer({ min: 0, max: 5 }),
      note: fc.string({ maxLength: 30 }),
      eta: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("complete" as const), pick: fc.nat(), failed: fc.boolean() }),
    fc.record({ kind: fc.constant("channel" as const), pick: fc.nat(), channel }),
  );

  it("reproduce GET /api/context exactly after any sequence of REST mutations", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 15 }), async (commands) => {
        const raw = await subscribed(hub);
        await raw.waitForFrames(1, "snapshot");
        for (const c of commands) {
          const active = (await getContext(hub)).activeTasks;
          const target = active.length > 0 ? active[("pick" in c ? c.pick : 0) % active.length] : undefined;
          if (c.kind === "add") {
            const plan = { steps: Array.from({ length: c.steps }, (_, i) => ({ title: `step ${i + 1}` })) };
            await mutate(hub, "POST", "/api/context/tasks", {
              description: c.description,
              startedFrom: c.channel,
              plan,
            });
          } else if (c.kind === "update" && target) {
            const update = {
              currentStep: Math.min(c.step, target.totalSteps),
              lastUpdate: c.note,
              ...(c.eta ? { eta: "2026-05-01T10:00:00.000Z" } : {}),
            };
            await mutate(hub, "PATCH", `/api/context/tasks/${target.taskId}`, update);
          } else if (c.kind === "complete" && target) {
            await mutate(
              hub,
              "POST",
              `/api/context/tasks/${target.taskId}/complete`,
              c.failed ? { error: "boom" } : { result: "ok" },
            );
          } else if (c.kind === "channel") {
            await mutate(hub, "POST", `/api/channels/${c.channel}/active`, target ? { taskId: target.taskId } : {});
          }
        }
        const expected = await getContext(hub);
        const version = hub.taskContext.document.version;
        await expect
          .poll(() => mirror(raw.frames).version === version, { timeout: 5000, message: `patch ${version}` })
          .toBeTruthy();
        expect(mirror(raw.frames).document).toEqual(expected);
        raw.socket.terminate();
      }),
      { numRuns: 25 },
    );
  });

  it("gives two subscribers the same frames, byte for byte, with versions rising by one", async () => {
    const a = await subscribed(hub);
    const b = await subscribed(hub);
    await a.waitForFrames(1);
    await b.waitForFrames(1);
    const first = await mutate(hub, "POST", "/api/context/tasks", {
      description: "Draft the reply",
      startedFrom: "slack",
    });
    const { taskId } = first.body as { taskId: string };
    await mutate(hub, "PATCH", `/api/context/tasks/${taskId}`, { lastUpdate: "drafting" });
    await mutate(hub, "POST", `/api/context/tasks/${taskId}/complete`, { result: "sent" });
    await a.waitForFrames(4);
    await b.waitForFrames(4);
    expect(a.texts).toEqual(b.texts);
    const versions = a.frames.map((f) => (f as SnapshotFrame | PatchFrame).version);
    expect(versions.slice(1)).toEqual([versions[0]! + 1, versions[0]! + 2, versions[0]! + 3]);
    expect(a.frames.map((f) => f.type)).toEqual(["snapshot", "patch", "patch", "patch"]);
  });
});

describe("fan-out", () => {
  it("encodes each change once as a ready frame, however many subscribers, and every subscriber gets exactly it", async () => {
    // No heartbeat pings during the test: the only frames framed are the hub's own patch frames.
    const hub = await startTestHub({ config: { hub: { heartbeatIntervalMs: 600_000 } } });
    const framing = vi.spyOn((ws as unknown as { Sender: { frame: () => unknown } }).Sender, "frame");
    try {
      const subscribers = await Promise.all(Array.from({ length: 5 }, () => subscribed(hub)));
      await Promise.all(subscribers.map((raw) => raw.waitForFrames(1)));
      const encodedBefore = hub.hub.broadcaster.framesEncoded;
      framing.mockClear();

      await hub.taskContext.addTask({ taskId: "fan-1", description: "Fan out", startedFrom: "cli" });
      await hub.taskContext.updateTask("fan-1", { lastUpdate: "halfway" });
      await Promise.all(subscribers.map((raw) => raw.waitForFrames(3)));

      // Two changes: two frames encoded (each framed by ws once), not ten.
      expect(hub.hub.broadcaster.framesEncoded - encodedBefore).toBe(2);
      expect(framing).toHaveBeenCalledTimes(2);
      for (const raw of subscribers) expect(raw.texts.slice(1)).toEqual(subscribers[0]!.texts.slice(1));
      expect(subscribers[0]!.frames.slice(1).map((f) => (f as PatchFrame).ops.length > 0)).toEqual([true, true]);
    } finally {
      framing.mockRestore();
      await hub.stop();
    }
  });
});

describe("unsubscribe", () => {
  it("stops the patches of that topic only", async () => {
    const hub = await startTestHub();
    try {
      const raw = await openRawSocket(hub.url);
      sockets.push(raw);
      raw.send({ type: "subscribe", topics: ["context", "health"] });
      await raw.waitForFrames(2, "two snapshots");
      raw.send({ type: "unsubscribe", topics: ["context"] });
      // Frames on one socket stay in order: once this snapshot arrives, the unsubscribe was read.
      raw.send({ type: "subscribe", topics: ["health"] });
      await raw.waitForFrames(3);
      await hub.taskContext.addTask({ description: "Not for this client", startedFrom: "cli" });
      await hub.health.mutate((h) => ({ ...h, lastUpdated: "2026-02-02T10:00:00.000Z" }));
      const frames = await raw.waitForFrames(4);
      expect(frames.map((f) => [f.type, (f as PatchFrame).topic]).slice(2)).toEqual([
        ["snapshot", "health"],
        ["patch", "health"],
      ]);
    } finally {
      await hub.stop();
    }
  });
});

describe("resuming with since", () => {
  let hub: TestHub;
  afterEach(async () => hub?.stop());

  async function addTask(description: string) {
    return (await mutate(hub, "POST", "/api/context/tasks", { description, startedFrom: "cli" })).body as {
      taskId: string;
    };
  }

  it("sends a client that reconnects with a position in history only the patches it missed", async () => {
    hub = await startTestHub();
    const first = await subscribed(hub);
    const task = await addTask("Summarize the meeting");
    const [snapshot, added] = (await first.waitForFrames(2)) as [SnapshotFrame, PatchFrame];
    const position = { epoch: snapshot.epoch, version: added.version };
    first.socket.close();
    await first.closed;

    await mutate(hub, "PATCH", `/api/context/tasks/${task.taskId}`, { lastUpdate: "reading notes" });
    await mutate(hub, "PATCH", `/api/context/tasks/${task.taskId}`, { lastUpdate: "writing" });
    await mutate(hub, "POST", `/api/context/tasks/${task.taskId}/complete`, { result: "summary.md" });

    const again = await subscribed(hub, position);
    await again.waitForFrames(3, "the three missed patches");
    // One more live change: the next frame must be its patch, so nothing else was sent before it.
    await mutate(hub, "POST", "/api/channels/cli/active", {});
    await again.waitForFrames(4);
    expect(again.frames.map((f) => f.type)).toEqual(["patch", "patch", "patch", "patch"]);
    expect(again.frames.map((f) => (f as PatchFrame).version)).toEqual([2, 3, 4, 5]);
    const resumed = mirror([first.frames[0]!, first.frames[1]!, ...again.frames]);
    expect(resumed.document).toEqual(await getContext(hub));
  });

  it("sends nothing to a client that resumes already up to date, until the next change", async () => {
    hub = await startTestHub();
    await addTask("Plan the trip");
    const position = { epoch: hub.taskContext.document.epoch, version: hub.taskContext.document.version };
    const again = await subscribed(hub, position);
    await addTask("Book the train");
    const [frame] = await again.waitForFrames(1);
    expect(frame).toMatchObject({ type: "patch", version: position.version + 1 });
  });

  it("sends a fresh snapshot to a client whose epoch is stale", async () => {
    hub = await startTestHub();
    await addTask("Check the invoices");
    const raw = await subscribed(hub, { epoch: "an-old-lifetime", version: 1 });
    const [frame] = await raw.waitForFrames(1);
    expect(frame).toEqual({
      type: "snapshot",
      topic: "context",
      epoch: hub.taskContext.document.epoch,
      version: 1,
      data: await getContext(hub),
    });
  });

  it("sends a fresh snapshot when the position is older than the history the hub keeps", async () => {
    hub = await startTestHub({ config: { hub: { historyLimit: 2 } } });
    for (const name of ["one", "two", "three", "four", "five"]) await addTask(name);
    const raw = await subscribed(hub, { epoch: hub.taskContext.document.epoch, version: 1 });
    const [frame] = await raw.waitForFrames(1);
    expect(frame).toMatchObject({ type: "snapshot", version: 5, data: await getContext(hub) });

    // Still within the kept history: only the last patches.
    const recent = await subscribed(hub, { epoch: hub.taskContext.document.epoch, version: 3 });
    await recent.waitForFrames(2);
    expect(recent.frames.map((f) => [f.type, (f as PatchFrame).version])).toEqual([
      ["patch", 4],
      ["patch", 5],
    ]);
  });

  it("sends a fresh snapshot for a position from the future", async () => {
    hub = await startTestHub();
    await addTask("Water the plants");
    const raw = await subscribed(hub, { epoch: hub.taskContext.document.epoch, version: 99 });
    const [frame] = await raw.waitForFrames(1);
    expect(frame).toMatchObject({ type: "snapshot", version: 1 });
  });
});
