// The context document's hard caps as a pure decision: which change may follow which state.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../server/config.ts";
import { type ContextLimits, contextBytes, limitRefusal, taskBytes } from "../../server/context-limits.ts";
import { SwitchboardError } from "../../server/errors.ts";
import { emptyContext } from "../../server/task-context.ts";
import { buildTask, finishTask } from "../../server/task-transitions.ts";
import type { Context, Task } from "../../shared/schemas.ts";

const T0 = Date.parse("2026-01-01T09:00:00.000Z");
const task = (id: string, promptChars = 0): Task =>
  buildTask(
    {
      description: `Task ${id}`,
      startedFrom: "cli",
      ...(promptChars > 0 ? { plan: { steps: [{ title: "long", prompt: "p".repeat(promptChars) }] } } : {}),
    },
    id,
    T0,
  );
const context = (active: Task[], recent: Task[] = []): Context => ({
  ...emptyContext(T0),
  activeTasks: active,
  recentCompleted: recent,
});
const limits: ContextLimits = { maxActiveTasks: 2, maxTaskBytes: 4_000, maxDocumentBytes: 12_000 };
const refusal = (before: Context, after: Context) => limitRefusal(before, after, limits);

describe("contextBytes", () => {
  it.each([
    ["an empty document", context([])],
    ["one active task", context([task("a")])],
    ["active and finished tasks", context([task("a"), task("b", 100)], [task("c"), task("d")])],
  ])("is the exact size of %s as compact JSON", (_, document) => {
    expect(contextBytes(document)).toBe(Buffer.byteLength(JSON.stringify(document)));
  });

  it("counts UTF-8 bytes, not characters", () => {
    const wide = { ...task("w"), description: "ü€𝕊".repeat(100) };
    expect(taskBytes(wide)).toBe(Buffer.byteLength(JSON.stringify(wide)));
    expect(taskBytes(wide)).toBeGreaterThan(JSON.stringify(wide).length);
  });
});

describe("limitRefusal", () => {
  const a = task("a");
  const b = task("b");

  it.each([
    ["adding a task under the cap", context([a]), context([a, b])],
    ["changing a task within its size", context([a]), context([{ ...a, lastUpdate: "step 1" }])],
    ["finishing (removing) a task over the active cap", context([a, b, task("c")]), context([a, b])],
    ["shrinking a task that is over its size", context([task("big", 5_000)]), context([task("big", 4_500)])],
  ])("allows %s", (_, before, after) => {
    expect(refusal(before, after)).toBeNull();
  });

  it.each([
    ["a third active task", context([a, b]), context([a, b, task("c")]), 409, "session.maxActiveTasks (2)"],
    ["a task larger than the cap", context([a]), context([a, task("big", 5_000)]), 413, "session.maxTaskBytes"],
    [
      "a task grown past the cap",
      context([a]),
      context([{ ...a, plan: { steps: [{ title: "t", prompt: "p".repeat(5_000) }] } }]),
      413,
      "task a would be",
    ],
    [
      "a document grown past its cap",
      context([task("x", 3_500)], [finishTask(task("y", 3_500), {}, T0), finishTask(task("z", 3_500), {}, T0)]),
      context(
        [task("x", 3_500), task("w", 3_500)],
        [finishTask(task("y", 3_500), {}, T0), finishTask(task("z", 3_500), {}, T0)],
      ),
      413,
      "session.maxDocumentBytes (12000 bytes)",
    ],
  ])("refuses %s with %i naming the limit", (_, before, after, status, named) => {
    const error = refusal(before, after);
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error?.status).toBe(status);
    expect(error?.message).toContain(named);
  });
});

describe("config keys", () => {
  it("default to 500 active tasks, 256 KiB a task, 16 MiB a document and 32 MiB of resume history", () => {
    const config = parseConfig({});
    expect(config.context).toMatchObject({
      maxActiveTasks: 500,
      maxTaskBytes: 256 * 1024,
      maxDocumentBytes: 16 * 1024 * 1024,
    });
    expect(config.hub.historyLimitBytes).toBe(32 * 1024 * 1024);
    expect(() => parseConfig({ session: { maxTaskBytes: 0 } })).toThrow(
      "config.json: session.maxTaskBytes must be a positive integer (got 0)",
    );
  });
});
