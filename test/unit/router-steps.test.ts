// The router's small decisions: where an output file may go, how streamed output becomes
// lastUpdate text (and how often), how step answers form the file, and when queued tasks start.
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../server/errors.ts";
import {
  checkOutputPath,
  OutputOutsideArtifacts,
  resolveOutputPath,
  writeOutput,
} from "../../server/router/artifacts.ts";
import { estimateDispatchTimes } from "../../server/router/dispatch-estimate.ts";
import { composeOutput, createThrottle, outputLine } from "../../server/router/step-output.ts";
import { ManualClock } from "../../shared/clock.ts";

describe("resolveOutputPath", () => {
  const base = { projectRoot: "/home/me/switchboard", artifactsDir: "artifacts", taskId: "route_abc" };

  it.each([
    {
      requested: undefined,
      absolute: "/home/me/switchboard/artifacts/route_abc.md",
      display: "artifacts/route_abc.md",
    },
    { requested: "trust.md", absolute: "/home/me/switchboard/artifacts/trust.md", display: "artifacts/trust.md" },
    {
      requested: "reports/q3/trust.md",
      absolute: "/home/me/switchboard/artifacts/reports/q3/trust.md",
      display: "artifacts/reports/q3/trust.md",
    },
    {
      requested: "artifacts/trust.md",
      absolute: "/home/me/switchboard/artifacts/trust.md",
      display: "artifacts/trust.md",
    },
    { requested: "a/../b.md", absolute: "/home/me/switchboard/artifacts/b.md", display: "artifacts/b.md" },
  ])("$requested → $display", ({ requested, absolute, display }) => {
    const artifactsDir = "/home/me/switchboard/artifacts";
    expect(resolveOutputPath({ ...base, requested })).toEqual({ absolute, display, artifactsDir });
  });

  it("an artifacts directory outside the project is shown as an absolute path", () => {
    expect(resolveOutputPath({ ...base, artifactsDir: "/srv/out", requested: "x.md" })).toEqual({
      absolute: "/srv/out/x.md",
      display: "/srv/out/x.md",
      artifactsDir: "/srv/out",
    });
  });

  it.each([
    ["../escape.md", "must stay inside the artifacts directory"],
    ["reports/../../escape.md", "must stay inside the artifacts directory"],
    ["/etc/passwd", "must be relative to the artifacts directory"],
    [".", "must stay inside the artifacts directory"],
    ["reports/", "must name a file, not a directory"],
    ["bad\0name.md", "must not contain a NUL character"],
  ])("refuses %j: %s", (requested, why) => {
    let error: unknown = null;
    try {
      resolveOutputPath({ ...base, requested });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SwitchboardError);
    expect((error as SwitchboardError).code).toBe("invalid_input");
    expect((error as SwitchboardError).message).toContain(`outputPath: ${why}`);
  });

  it("writeOutput creates missing directories and leaves no temporary file", async () => {
    const root = await mkdtemp(join(tmpdir(), "switchboard-out-"));
    try {
      const location = resolveOutputPath({
        projectRoot: root,
        artifactsDir: "artifacts",
        taskId: "t",
        requested: "a/b/c.md",
      });
      await writeOutput(location, "hello\n");
      expect(await readFile(join(root, "artifacts", "a", "b", "c.md"), "utf8")).toBe("hello\n");
      expect(await readdir(join(root, "artifacts", "a", "b"))).toEqual(["c.md"]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("outputs and symbolic links", () => {
  let root = "";
  let outside = "";
  const at = (requested: string) =>
    resolveOutputPath({ projectRoot: root, artifactsDir: "artifacts", taskId: "t", requested });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "switchboard-links-"));
    outside = join(root, "outside");
    await mkdir(join(root, "artifacts"), { recursive: true });
    await mkdir(outside);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each([["escape/x.md"], ["escape/deeper/x.md"], ["reports/../escape/x.md"]])(
    "refuses %j when a linked folder inside artifacts points outside: at intake (400) and when writing, writing nothing there",
    async (requested) => {
      await symlink(outside, join(root, "artifacts", "escape"));
      const location = at(requested);
      const intake = await checkOutputPath(location).then(
        () => null,
        (e: unknown) => e,
      );
      expect(intake).toBeInstanceOf(SwitchboardError);
      expect((intake as SwitchboardError).code).toBe("invalid_input");
      expect((intake as SwitchboardError).message).toMatch(
        /leads outside the artifacts directory through a symbolic link/,
      );
      await expect(writeOutput(location, "secret\n")).rejects.toBeInstanceOf(OutputOutsideArtifacts);
      expect(await readdir(outside)).toEqual([]);
    },
  );

  it("replaces a link at the last component with the file, never writing where the link points", async () => {
    const target = join(outside, "victim.txt");
    await writeFile(target, "untouched\n");
    await symlink(target, join(root, "artifacts", "x.md"));
    await writeOutput(at("x.md"), "answer\n");
    expect(await readFile(target, "utf8")).toBe("untouched\n");
    expect((await lstat(join(root, "artifacts", "x.md"))).isSymbolicLink()).toBe(false);
    expect(await readFile(join(root, "artifacts", "x.md"), "utf8")).toBe("answer\n");
  });

  it("accepts an artifacts directory that is itself a link, and linked folders that stay inside it", async () => {
    const real = join(root, "real-artifacts");
    await mkdir(join(real, "drafts"), { recursive: true });
    await rm(join(root, "artifacts"), { recursive: true });
    await symlink(real, join(root, "artifacts"));
    await symlink(join(real, "drafts"), join(real, "latest"));
    await checkOutputPath(at("latest/x.md"));
    await writeOutput(at("latest/x.md"), "ok\n");
    expect(await readFile(join(real, "drafts", "x.md"), "utf8")).toBe("ok\n");
  });
});

describe("outputLine", () => {
  it.each([
    ["one line", "one line"],
    ["first\nsecond\n\n  ", "second"],
    ["tabs\tand   spaces\r\n", "tabs and spaces"],
    ["", ""],
  ])("%j → %j", (text, line) => expect(outputLine(text)).toBe(line));

  it("keeps the end of a long line, marked with an ellipsis", () => {
    const line = outputLine(`${"a".repeat(300)}END`, 20);
    expect(line).toHaveLength(20);
    expect(line.startsWith("…")).toBe(true);
    expect(line.endsWith("END")).toBe(true);
  });
});

describe("composeOutput", () => {
  it("one step is its answer as is", () => {
    expect(composeOutput("Task", [{ step: 1, title: "Only", answer: "the answer" }])).toBe("the answer\n");
  });

  it("several steps are numbered sections under the description", () => {
    const answers = [
      { step: 1, title: "Read", answer: "read it\n" },
      { step: 2, title: "Sum up", answer: "summed" },
    ];
    expect(composeOutput("Trust review", answers)).toBe(
      "# Trust review\n\n## 1. Read\n\nread it\n\n## 2. Sum up\n\nsummed\n",
    );
  });

  it("no answer yet is an empty document", () => {
    expect(composeOutput("Task", [])).toBe("");
  });
});

describe("createThrottle", () => {
  it("publishes the first text at once, then at most once per interval with the latest text", () => {
    const clock = new ManualClock();
    const published: string[] = [];
    const throttle = createThrottle(clock, 500, (text) => published.push(text));

    throttle.push("a");
    for (const text of ["b", "c", "d"]) {
      clock.advance(100);
      throttle.push(text);
    }
    expect(published).toEqual(["a"]);
    clock.advance(200); // 500 ms after "a"
    expect(published).toEqual(["a", "d"]);
    clock.advance(1000);
    expect(published).toEqual(["a", "d"]);
    throttle.push("e");
    expect(published).toEqual(["a", "d", "e"]);
  });

  it("a flood of 10,000 pieces over 5 seconds is a dozen publishes, ending with the latest", () => {
    const clock = new ManualClock();
    const published: string[] = [];
    const throttle = createThrottle(clock, 500, (text) => published.push(text));
    for (let i = 0; i < 10_000; i++) {
      throttle.push(`piece ${i}`);
      clock.advance(0.5);
    }
    clock.advance(500);
    expect(published.length).toBeLessThanOrEqual(12);
    expect(published[published.length - 1]).toBe("piece 9999");
  });

  it("cancel drops a pending publish", () => {
    const clock = new ManualClock();
    const published: string[] = [];
    const throttle = createThrottle(clock, 500, (text) => published.push(text));
    throttle.push("a");
    throttle.push("b");
    throttle.cancel();
    clock.advance(1000);
    expect(published).toEqual(["a"]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("estimateDispatchTimes", () => {
  const now = 1_000_000;
  it.each([
    { behaviour: "a free slot means now", concurrency: 1, running: [], queued: [60], expected: [now] },
    {
      behaviour: "behind one running task: its ETA",
      concurrency: 1,
      running: [now + 30],
      queued: [60],
      expected: [now + 30],
    },
    {
      behaviour: "each queued task waits for the one before it",
      concurrency: 1,
      running: [now + 30],
      queued: [60, 10, 5],
      expected: [now + 30, now + 90, now + 100],
    },
    {
      behaviour: "two slots: the earliest to free up goes first",
      concurrency: 2,
      running: [now + 50, now + 20],
      queued: [100, 100, 100],
      expected: [now + 20, now + 50, now + 120],
    },
    {
      behaviour: "an ETA already past counts as now",
      concurrency: 1,
      running: [now - 500],
      queued: [10],
      expected: [now],
    },
  ])("$behaviour", ({ concurrency, running, queued, expected }) => {
    expect(estimateDispatchTimes({ now, concurrency, runningEndsAt: running, queuedDurationsMs: queued })).toEqual(
      expected,
    );
  });
});
