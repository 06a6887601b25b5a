// Clients that stop reading: back-pressure bounds what the hub holds for them and never holds up
// the others, and the heartbeat drops clients that stop answering pings.
import { afterEach, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import type { PatchFrame, SnapshotFrame } from "../../shared/schemas.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { openRawSocket, type RawSocket, rawRequest } from "../helpers/raw-socket.ts";

let hub: TestHub;
let sockets: RawSocket[] = [];

afterEach(async () => {
  for (const raw of sockets) raw.socket.terminate();
  sockets = [];
  await hub?.stop();
});

async function subscriber(): Promise<RawSocket> {
  const raw = await openRawSocket(hub.url);
  sockets.push(raw);
  raw.send({ type: "subscribe", topics: ["context"] });
  await raw.waitForFrames(1, "snapshot");
  return raw;
}

/** The hub's own end of every WebSocket (the clients the broadcaster writes to). */
const serverSockets = () => [...(hub.hub.app.websocketServer.clients as Set<WebSocket>)];

describe("back-pressure", () => {
  it("stops sending patches to a client that does not read, bounds its buffer, never delays others, and sends a snapshot once it drains", async () => {
    const maxBufferedBytes = 256 * 1024;
    hub = await startTestHub({ config: { hub: { maxBufferedBytes }, persistence: { fsync: false } } });
    const reader = await subscriber();
    const stalled = await subscriber();
    stalled.socket.pause(); // stops reading from TCP: the kernel buffers fill, then the hub's

    const task = await hub.taskContext.addTask({ description: "Write the long report", startedFrom: "dashboard" });
    // Each change carries a ~200 KB plan, so 120 changes push ~24 MB at the stalled client:
    // far beyond the loopback socket buffers.
    const bigPlan = (n: number) => ({
      steps: Array.from({ length: 10 }, (_, i) => ({ title: `step ${i}`, prompt: `${n}:${"p".repeat(19_990)}` })),
    });
    let largestBuffered = 0;
    for (let n = 0; n < 120; n++) {
      await hub.taskContext.updateTask(task.taskId, { plan: bigPlan(n) });
      for (const socket of serverSockets()) largestBuffered = Math.max(largestBuffered, socket.bufferedAmount);
    }
    const finalVersion = hub.taskContext.document.version;

    // The reader got every patch while the stalled client was still stalled.
    await expect
      .poll(() => reader.frames.length === finalVersion + 1, {
        timeout: 10_000,
        message: "the reader to get every patch",
      })
      .toBeTruthy();
    expect(reader.frames.map((f) => (f as PatchFrame).version)).toEqual([...Array(finalVersion + 1).keys()]);

    // What the hub holds for the stalled client stays near the limit: at most the one frame
    // that crossed it (the largest, the last), its header, and the tiny ping that marks the drain.
    const frameBytes = Buffer.byteLength(reader.texts.at(-1) as string);
    expect(largestBuffered).toBeLessThanOrEqual(maxBufferedBytes + frameBytes + 32);

    stalled.socket.resume();
    await expect
      .poll(() => stalled.frames.at(-1)?.type === "snapshot" && stalled.frames.length > 1, {
        timeout: 10_000,
        message: "the drained client to get a snapshot",
      })
      .toBeTruthy();
    const patches = stalled.frames.slice(1, -1) as PatchFrame[];
    const snapshot = stalled.frames.at(-1) as SnapshotFrame;
    // It received an unbroken run of patches, then stopped getting them, then a fresh snapshot.
    expect(patches.every((p) => p.type === "patch")).toBe(true);
    expect(patches.map((p) => p.version)).toEqual(patches.map((_, i) => i + 1));
    expect(patches.length).toBeLessThan(finalVersion);
    expect(snapshot.version).toBe(finalVersion);
    expect(snapshot.data).toEqual((await rawRequest(`${hub.url}/api/context`)).body);

    // And it is live again: the next change arrives as a patch.
    await hub.taskContext.updateTask(task.taskId, { lastUpdate: "back in sync" });
    await expect
      .poll(() => stalled.frames.at(-1)?.type === "patch", { timeout: 5000, message: "a live patch after catching up" })
      .toBeTruthy();
    expect(stalled.frames.at(-1)).toMatchObject({ type: "patch", version: finalVersion + 1 });
  });
});

describe("resuming within the buffer limit", () => {
  it("sends a resuming client the missed patches only while its buffer has room, then a snapshot once it drains", async () => {
    const maxBufferedBytes = 64 * 1024;
    hub = await startTestHub({ config: { hub: { maxBufferedBytes }, persistence: { fsync: false } } });
    const { epoch } = hub.taskContext.document;
    const task = await hub.taskContext.addTask({ description: "Write the long report", startedFrom: "dashboard" });
    // 120 changes of ~200 KB each: ~24 MB of missed patches, far beyond the loopback buffers.
    for (let n = 0; n < 120; n++) {
      const steps = Array.from({ length: 10 }, (_, i) => ({
        title: `step ${i}`,
        prompt: `${n}:${"p".repeat(19_990)}`,
      }));
      await hub.taskContext.updateTask(task.taskId, { plan: { steps } });
    }
    const finalVersion = hub.taskContext.document.version;
    const raw = await openRawSocket(hub.url);
    sockets.push(raw);
    raw.socket.pause();
    raw.send({ type: "subscribe", topics: ["context"], since: { context: { epoch, version: 0 } } });
    // The hub stops at the limit: what it holds is the limit and the one patch that crossed it.
    const patchBytes = 210_000;
    await expect
      .poll(
        () => serverSockets()[0]?.bufferedAmount !== undefined && serverSockets()[0]!.bufferedAmount > maxBufferedBytes,
        { timeout: 10_000, message: "the buffer to fill" },
      )
      .toBeTruthy();
    expect(serverSockets()[0]!.bufferedAmount).toBeLessThanOrEqual(maxBufferedBytes + patchBytes);

    raw.socket.resume();
    await expect
      .poll(() => raw.frames.at(-1)?.type === "snapshot", { timeout: 20_000, message: "a snapshot after the drain" })
      .toBeTruthy();
    const patches = raw.frames.slice(0, -1) as PatchFrame[];
    const snapshot = raw.frames.at(-1) as SnapshotFrame;
    expect(patches.every((p) => p.type === "patch")).toBe(true);
    expect(patches.map((p) => p.version)).toEqual(patches.map((_, i) => i + 1));
    expect(patches.length).toBeLessThan(finalVersion);
    expect(snapshot.version).toBe(finalVersion);
    expect(snapshot.data).toEqual((await rawRequest(`${hub.url}/api/context`)).body);
  });
});

describe("heartbeat", () => {
  it("terminates a client that stops answering pings and keeps the one that answers", async () => {
    hub = await startTestHub({ config: { hub: { heartbeatIntervalMs: 40 } } });
    const answering = await subscriber();
    const silent = await subscriber();
    silent.socket.pause(); // no reads, so no pongs

    await expect
      .poll(() => hub.hub.broadcaster.clientCount === 1, { timeout: 5000, message: "the silent client to be dropped" })
      .toBeTruthy();
    silent.socket.resume();
    const { code } = await silent.closed;
    expect(code).toBe(1006); // terminated without a close handshake

    await hub.taskContext.addTask({ description: "still here?", startedFrom: "cli" });
    await answering.waitForFrames(2);
    expect(answering.socket.readyState).toBe(answering.socket.OPEN);
  });
});
