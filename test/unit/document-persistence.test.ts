// Versioned documents on disk: restart persistence, corrupt-file recovery, group commit, durable
// acknowledgement, and a file that is always complete.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadDocumentFile, VersionedDocument } from "../../server/document.ts";
import { DurableJsonFile } from "../../server/durable-file.ts";
import { createLogger } from "../../server/log.ts";
import { createTaskContext, emptyContext } from "../../server/task-context.ts";
import { ManualClock } from "../../shared/clock.ts";
import { type Context, contextSchema } from "../../shared/schemas.ts";

let dir: string;
let path: string;
const clock = new ManualClock("2026-03-04T05:06:07.089Z");
const opened: DurableJsonFile[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-doc-"));
  path = join(dir, "active-context.json");
});

afterEach(async () => {
  for (const file of opened.splice(0)) await file.close();
  await rm(dir, { recursive: true, force: true });
});

/** Opens the context document the way the hub does at start-up, collecting the log's warnings. */
async function open() {
  const warnings: string[] = [];
  const logger = createLogger("warn", (line) => warnings.push(line));
  const loaded = await loadDocumentFile(path, contextSchema, () => emptyContext(clock.now()), {
    logger,
    now: () => clock.now(),
  });
  const file = new DurableJsonFile(path);
  opened.push(file);
  const document = new VersionedDocument<Context>({ initial: loaded.state, file });
  return { loaded, file, document, taskContext: createTaskContext({ document, clock }), warnings };
}

describe("restart persistence", () => {
  it("reopening the file gives back exactly the state that was acknowledged", async () => {
    const first = await open();
    await first.taskContext.addTask({ taskId: "t1", description: "Analyze", startedFrom: "voice", totalSteps: 3 });
    await first.taskContext.updateTask("t1", { currentStep: 2, lastUpdate: "step 2 started" });
    await first.taskContext.addTask({ taskId: "t2", description: "Draft", startedFrom: "slack" });
    await first.taskContext.completeTask("t2", { result: "draft ready" });
    await first.taskContext.setChannelActive("dashboard", { taskId: "t1" });
    const acknowledged = first.taskContext.getContext();

    const second = await open();
    expect(second.loaded.movedAside).toBeNull();
    expect(second.taskContext.getContext()).toEqual(acknowledged);
    expect(second.taskContext.getChannelState("dashboard").task?.currentStep).toBe(2);
  });

  it("starts empty when the file is missing, without writing anything until a change", async () => {
    const { taskContext, loaded } = await open();
    expect(loaded.movedAside).toBeNull();
    expect(taskContext.getContext()).toEqual(emptyContext(clock.now()));
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("corrupt-file recovery", () => {
  it.each([
    ["invalid JSON", '{"lastUpdated": "2026-', /is not valid JSON/],
    ["an empty file", "", /is not valid JSON/],
    ["a schema mismatch", JSON.stringify({ activeTasks: "none" }), /does not match the document schema/],
    [
      "a task with an unknown status",
      JSON.stringify({
        ...emptyContext(0),
        activeTasks: [{ taskId: "x", status: "exploded" }],
      }),
      /does not match the document schema/,
    ],
  ])(
    "moves %s aside as <name>.corrupt-<timestamp>, warns once, starts empty and never overwrites it",
    async (_, bad, reason) => {
      await writeFile(path, bad);
      const { loaded, taskContext, warnings, document } = await open();
      const aside = `${path}.corrupt-2026-03-04T05-06-07-089Z`;
      expect(loaded.movedAside).toBe(aside);
      expect(await readFile(aside, "utf8")).toBe(bad);
      expect(taskContext.getContext()).toEqual(emptyContext(clock.now()));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(reason);
      expect(warnings[0]).toContain(aside);
      expect(warnings[0]).not.toContain("\n");

      // The hub works on, writing a fresh file; the bad copy stays as it was.
      await taskContext.addTask({ taskId: "t1", description: "after recovery", startedFrom: "cli" });
      expect(document.version).toBe(1);
      expect(JSON.parse(await readFile(path, "utf8")).activeTasks[0].taskId).toBe("t1");
      expect(await readFile(aside, "utf8")).toBe(bad);
    },
  );

  it("keeps both bad copies when two corrupt files are found at the same instant", async () => {
    await writeFile(path, "first bad");
    await open();
    await writeFile(path, "second bad");
    const { loaded } = await open();
    expect(loaded.movedAside).toBe(`${path}.corrupt-2026-03-04T05-06-07-089Z-1`);
    expect(await readFile(`${path}.corrupt-2026-03-04T05-06-07-089Z`, "utf8")).toBe("first bad");
    expect(await readFile(`${path}.corrupt-2026-03-04T05-06-07-089Z-1`, "utf8")).toBe("second bad");
  });
});

describe("group commit and durable acknowledgement", () => {
  it("a burst of 500 mutations costs far fewer than 500 writes, and every call resolves with its change on disk", async () => {
    const { taskContext, file } = await open();
    await taskContext.addTask({ taskId: "t1", description: "burst", startedFrom: "cli" });
    const writesBefore = file.writes;
    const calls = Array.from({ length: 500 }, (_, i) =>
      taskContext.updateTask("t1", { lastUpdate: `update ${i + 1}` }).then(async () => {
        // Once acknowledged, the file holds this update or a later one.
        const onDisk = JSON.parse(await readFile(path, "utf8")) as Context;
        return Number(onDisk.activeTasks[0]?.lastUpdate.replace("update ", ""));
      }),
    );
    const seen = await Promise.all(calls);
    for (const [i, update] of seen.entries()) expect(update).toBeGreaterThanOrEqual(i + 1);
    const writes = file.writes - writesBefore;
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(50);
    expect(JSON.parse(await readFile(path, "utf8")).activeTasks[0].lastUpdate).toBe("update 500");
  });

  it("with 40 writers each awaiting its acknowledgement, every acknowledged update is on disk and the file only moves forward", async () => {
    const { taskContext } = await open();
    const WRITERS = 40;
    const ROUNDS = 15;
    for (let w = 0; w < WRITERS; w++)
      await taskContext.addTask({ taskId: `w${w}`, description: "writer", startedFrom: "cli" });
    const onDisk = async () => {
      const context = JSON.parse(await readFile(path, "utf8")) as Context;
      return new Map(context.activeTasks.map((t) => [t.taskId, Number(t.lastUpdate.replace("round ", "") || 0)]));
    };
    // A reader that never sees a writer's round go back: later writes are never overtaken by earlier ones.
    let stop = false;
    let backwards = 0;
    const reader = (async () => {
      let last = new Map<string, number>();
      while (!stop) {
        const now = await onDisk();
        for (const [taskId, round] of now) if (round < (last.get(taskId) ?? 0)) backwards++;
        last = now;
      }
    })();
    let late = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let round = 1; round <= ROUNDS; round++) {
          await taskContext.updateTask(`w${w}`, { lastUpdate: `round ${round}` });
          if (((await onDisk()).get(`w${w}`) ?? 0) < round) late++;
        }
      }),
    );
    stop = true;
    await reader;
    expect(late).toBe(0);
    expect(backwards).toBe(0);
    expect([...(await onDisk()).values()]).toEqual(Array(WRITERS).fill(ROUNDS));
  });

  it("does not resolve a mutation before its write has finished", async () => {
    const { taskContext, file } = await open();
    let resolved = false;
    const call = taskContext.addTask({ taskId: "t1", description: "slow disk", startedFrom: "cli" }).then(() => {
      resolved = true;
    });
    // The change is visible in memory at once, but not yet acknowledged.
    expect(taskContext.getActiveTask("t1")).not.toBeNull();
    expect(resolved).toBe(false);
    expect(file.writes).toBe(0);
    await call;
    expect(file.writes).toBe(1);
  });

  it("the file is always a complete document: every read during a burst parses and matches the schema", async () => {
    const { taskContext } = await open();
    await taskContext.addTask({ taskId: "t1", description: "reader", startedFrom: "cli" });
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        const text = await readFile(path, "utf8");
        expect(contextSchema.safeParse(JSON.parse(text)).success).toBe(true);
        reads++;
      }
    })();
    for (let i = 1; i <= 300; i++) await taskContext.updateTask("t1", { lastUpdate: `update ${i}` });
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
  });

  it("leaves no temporary files behind after writes", async () => {
    const { taskContext, file } = await open();
    await taskContext.addTask({ taskId: "t1", description: "tidy", startedFrom: "cli" });
    await file.flush();
    expect(await readdir(dir)).toEqual(["active-context.json"]);
  });

  it("sweeps a temporary file another (killed) process left half-written, and never the document", async () => {
    await writeFile(join(dir, ".active-context.json.99999.3.tmp"), '{"half');
    await writeFile(path, JSON.stringify(emptyContext(0)));
    const file = new DurableJsonFile(path);
    opened.push(file);
    expect(await file.sweepTemporaryFiles()).toEqual([".active-context.json.99999.3.tmp"]);
    expect(await readdir(dir)).toEqual(["active-context.json"]);
  });

  it("close() flushes a change whose write is still pending", async () => {
    const { taskContext, file } = await open();
    void taskContext.addTask({ taskId: "t1", description: "shutdown", startedFrom: "cli" });
    await file.close();
    expect(JSON.parse(await readFile(path, "utf8")).activeTasks[0].taskId).toBe("t1");
  });
});
