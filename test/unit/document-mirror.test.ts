// The client's mirror of a hub document: what each frame does to it — a snapshot replaces, the next
// patch applies, a gap or a new epoch asks again (once per burst), a duplicate is dropped, a patch
// that does not apply starts the topic from scratch — and the subscribe frame that resumes it.
import { describe, expect, test } from "vitest";
import { DocumentMirror } from "../../client/document-mirror.ts";
import type { PatchFrame, SnapshotFrame } from "../../shared/schemas.ts";
import { makeContext, makeTask } from "../fixtures/tasks.ts";

const ocr = makeTask({ taskId: "ocr" });
const snapshot = (version: number, epoch = "e1"): SnapshotFrame => ({
  type: "snapshot",
  topic: "context",
  epoch,
  version,
  data: makeContext([ocr]),
});
const patch = (version: number, progress: number, epoch = "e1"): PatchFrame => ({
  type: "patch",
  topic: "context",
  epoch,
  version,
  ops: [{ op: "replace", path: "/activeTasks/0/progress", value: progress }],
});

function mirrorAt(version: number): DocumentMirror {
  const mirror = new DocumentMirror(["context", "health"]);
  mirror.receive(snapshot(version));
  return mirror;
}

describe("DocumentMirror", () => {
  test("a snapshot replaces the document and its position; ready once every topic holds one", () => {
    const mirror = new DocumentMirror(["context", "health"]);
    expect(mirror.subscribeFrame(["context", "health"])).toEqual({ type: "subscribe", topics: ["context", "health"] });
    const step = mirror.receive(snapshot(4));
    expect(step).toMatchObject({ kind: "changed", topic: "context", previous: undefined, version: 4, ops: [] });
    expect(mirror.document("context")?.activeTasks[0]?.taskId).toBe("ocr");
    expect(mirror.position("context")).toEqual({ epoch: "e1", version: 4 });
    expect(mirror.isReady()).toBe(false);
  });

  test("the next patch applies and moves the position by one", () => {
    const mirror = mirrorAt(4);
    const step = mirror.receive(patch(5, 0.5));
    expect(step).toMatchObject({ kind: "changed", version: 5 });
    expect(mirror.document("context")?.activeTasks[0]?.progress).toBe(0.5);
    expect(mirror.position("context")).toEqual({ epoch: "e1", version: 5 });
  });

  test.each([
    ["a duplicate of the version held", 4],
    ["an older version", 2],
  ])("%s is dropped", (_name, version) => {
    const mirror = mirrorAt(4);
    expect(mirror.receive(patch(version, 0.9))).toEqual({ kind: "none" });
    expect(mirror.document("context")?.activeTasks[0]?.progress).toBe(0);
  });

  test.each([
    ["a gap (version 6 after 4)", patch(6, 0.5)],
    ["another epoch (the hub's history restarted)", patch(5, 0.5, "e2")],
  ])("%s asks again from the position held, once for a burst", (_name, frame) => {
    const mirror = mirrorAt(4);
    expect(mirror.receive(frame)).toEqual({ kind: "resubscribe", topic: "context" });
    expect(mirror.receive({ ...frame, version: frame.version + 1 })).toEqual({ kind: "none" });
    expect(mirror.subscribeFrame(["context"])).toEqual({
      type: "subscribe",
      topics: ["context"],
      since: { context: { epoch: "e1", version: 4 } },
    });
    expect(mirror.document("context")?.activeTasks[0]?.progress).toBe(0);
  });

  test("a new connection may ask again for a topic whose resubscribe was in flight", () => {
    const mirror = mirrorAt(4);
    mirror.receive(patch(6, 0.5));
    mirror.connected();
    expect(mirror.receive(patch(7, 0.5))).toEqual({ kind: "resubscribe", topic: "context" });
  });

  test("a patch that does not apply drops the position, so the hub answers with a snapshot", () => {
    const mirror = mirrorAt(4);
    const bad: PatchFrame = { ...patch(5, 0), ops: [{ op: "remove", path: "/activeTasks/3" }] };
    expect(mirror.receive(bad)).toEqual({ kind: "resubscribe", topic: "context" });
    expect(mirror.position("context")).toBeNull();
    expect(mirror.subscribeFrame(["context"])).toEqual({ type: "subscribe", topics: ["context"] });
    expect(mirror.receive(snapshot(9))).toMatchObject({ kind: "changed", version: 9 });
    expect(mirror.receive(patch(10, 0.7))).toMatchObject({ kind: "changed", version: 10 });
  });
});
