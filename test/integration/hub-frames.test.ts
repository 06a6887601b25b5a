// Bad frames from a WebSocket client: each gets an error frame or a close with the right code,
// and a well-behaved client on the same hub never notices.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readClientFrame } from "../../server/broadcaster.ts";
import type { ErrorFrame } from "../../shared/schemas.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { openRawSocket, type RawSocket } from "../helpers/raw-socket.ts";

let hub: TestHub;
let bystander: RawSocket;
let sockets: RawSocket[] = [];

beforeAll(async () => {
  hub = await startTestHub({ config: { hub: { maxFrameBytes: 1024 } } });
  bystander = await openRawSocket(hub.url);
  bystander.send({ type: "subscribe", topics: ["context"] });
  await bystander.waitForFrames(1);
});

afterEach(() => {
  for (const raw of sockets) raw.socket.terminate();
  sockets = [];
});

afterAll(async () => {
  bystander.socket.terminate();
  await hub.stop();
});

async function misbehaving(): Promise<RawSocket> {
  const raw = await openRawSocket(hub.url);
  sockets.push(raw);
  return raw;
}

/** Sends one bad frame, expects one error frame, and checks the connection still serves. */
async function expectErrorFrame(frame: string, code: string): Promise<ErrorFrame> {
  const raw = await misbehaving();
  raw.send(frame);
  const [error] = (await raw.waitForFrames(1, `error frame ${code}`)) as [ErrorFrame];
  expect(error).toEqual({ type: "error", code, message: expect.any(String) });
  raw.send({ type: "subscribe", topics: ["context"] });
  const [, snapshot] = await raw.waitForFrames(2, "snapshot after the error");
  expect(snapshot).toMatchObject({ type: "snapshot", topic: "context" });
  await hub.taskContext.addTask({ description: `change after ${code}`, startedFrom: "cli" });
  return error;
}

describe("bad frames", () => {
  it("answers a frame that is not JSON with a bad_json error frame and keeps the connection", async () => {
    const error = await expectErrorFrame("subscribe me please", "bad_json");
    expect(error.message).toContain('{"type":"subscribe"');
  });

  it("answers an unknown frame type with an unknown_type error frame", async () => {
    const error = await expectErrorFrame('{"type":"publish","topics":["context"]}', "unknown_type");
    expect(error.message).toContain('"publish"');
  });

  it("answers an unknown topic with an unknown_topic error frame naming the real topics", async () => {
    const error = await expectErrorFrame('{"type":"subscribe","topics":["weather"]}', "unknown_topic");
    expect(error.message).toContain("context, health");
  });

  it("answers a malformed since with an invalid_frame error frame", async () => {
    const error = await expectErrorFrame(
      '{"type":"subscribe","topics":["context"],"since":{"context":{"epoch":"x","version":-1}}}',
      "invalid_frame",
    );
    expect(error.message).toContain("since.context.version");
  });

  it("closes with 1009 a client that sends a frame over the size limit", async () => {
    const raw = await misbehaving();
    raw.send(JSON.stringify({ type: "subscribe", topics: ["context"], padding: "x".repeat(2000) }));
    expect((await raw.closed).code).toBe(1009);
  });

  it("closes with 1003 a client that sends a binary frame", async () => {
    const raw = await misbehaving();
    raw.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await raw.closed).code).toBe(1003);
  });

  it("closes with 1008 a client that keeps sending garbage", async () => {
    const raw = await misbehaving();
    for (let i = 0; i < 30; i++) raw.send(`garbage ${i}`);
    expect((await raw.closed).code).toBe(1008);
    expect(raw.frames.length).toBeGreaterThan(0);
    expect(raw.frames.every((f) => f.type === "error")).toBe(true);
  });

  // Runs after the others (vitest keeps file order): the bystander shared the hub with all of them.
  it("leaves a well-behaved client on the same hub unaffected: every change arrives, in order", async () => {
    await hub.taskContext.addTask({ description: "after the storm", startedFrom: "cli" });
    const version = hub.taskContext.document.version;
    await bystander.waitForFrames(version + 1);
    expect(bystander.frames.map((f) => f.type)).toEqual(["snapshot", ...Array(version).fill("patch")]);
    expect(bystander.frames.map((f) => (f as { version: number }).version)).toEqual([...Array(version + 1).keys()]);
    expect(bystander.socket.readyState).toBe(bystander.socket.OPEN);
  });
});

describe("readClientFrame", () => {
  it.each([
    ['{"type":"subscribe","topics":["context","health"]}', { type: "subscribe", topics: ["context", "health"] }],
    ['{"type":"unsubscribe","topics":["health"]}', { type: "unsubscribe", topics: ["health"] }],
    ["not json", { code: "bad_json" }],
    ["null", { code: "unknown_type" }],
    ['{"topics":["context"]}', { code: "unknown_type" }],
    ['{"type":"subscribe","topics":["context","bogus"]}', { code: "unknown_topic" }],
    ['{"type":"subscribe","topics":[]}', { code: "invalid_frame" }],
    ['{"type":"subscribe","topics":["context"],"extra":1}', { code: "invalid_frame" }],
  ])("reads %s", (text, expected) => {
    expect(readClientFrame(text)).toMatchObject(expected);
  });
});
