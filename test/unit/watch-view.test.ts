// What `switchboard watch` draws, frame by frame, as a stream of pushed changes reaches its mirror.
import stringWidth from "string-width";
import { describe, expect, test } from "vitest";
import { fitWidth, progressBar, renderWatch, taskLine } from "../../client/cli/watch-view.ts";
import { applyPatch } from "../../client/json-patch.ts";
import type { Context, JsonPatchOperation, Task } from "../../shared/schemas.ts";
import { inMinutes, makeBackend, makeContext, makeHealth, makeTask, NOW } from "../fixtures/tasks.ts";

const task = (overrides: Partial<Task> = {}): Task =>
  makeTask({
    taskId: "ocr",
    description: "OCR the invoices",
    startedFrom: "cli",
    startedAt: inMinutes(-5),
    ...overrides,
  });

const emptyContext = makeContext([], { lastUpdated: inMinutes(-10) });
const health = makeHealth({
  claude: makeBackend({ latencyMs: 300, lastPing: inMinutes(-1), lastSuccess: inMinutes(-1) }),
});

const frame = (context: Context | null, connection: "live" | "reconnecting" | "connecting" = "live", width = 120) =>
  renderWatch({ context, health, connection, hubUrl: "http://127.0.0.1:7433", now: NOW, width });

describe("progress bar", () => {
  test.each([
    [0, "[░░░░░░░░░░░░░░░░░░░░]"],
    [60, "[████████████░░░░░░░░]"],
    [100, "[████████████████████]"],
    [null, "[····················]"],
  ])("%j%% → %s", (done, bar) => {
    expect(progressBar(done)).toBe(bar);
  });

  test("a task line holds bar, percent, description, step and time left", () => {
    expect(
      taskLine(task({ progress: 0.6, currentStep: 3, totalSteps: 4, lastUpdate: "page 7", eta: inMinutes(12) }), NOW),
    ).toBe("[████████████░░░░░░░░]  60%  OCR the invoices · running · step 3 of 4 — page 7 · about 12 minutes left");
  });

  test("unknown progress shows a dotted bar and ?%", () => {
    expect(taskLine(task(), NOW)).toBe("[····················]   ?%  OCR the invoices · running");
  });
});

describe("frames from a stream of patches", () => {
  test("each pushed change redraws the bar, the summary and the last finished line", () => {
    // The ops a hub would push, applied to the mirror as the client does.
    const stream: JsonPatchOperation[][] = [
      [{ op: "add", path: "/activeTasks/0", value: task({ totalSteps: 4, currentStep: 1 }) }],
      [
        { op: "replace", path: "/activeTasks/0/progress", value: 0.6 },
        { op: "replace", path: "/activeTasks/0/currentStep", value: 3 },
        { op: "replace", path: "/activeTasks/0/eta", value: inMinutes(12) },
      ],
      [{ op: "replace", path: "/activeTasks/0/status", value: "pending-approval" }],
      [
        { op: "remove", path: "/activeTasks/0" },
        {
          op: "add",
          path: "/recentCompleted/0",
          value: task({ status: "complete", progress: 1, outputPath: "artifacts/ocr.md" }),
        },
      ],
    ];
    let mirror = emptyContext;
    const frames = [frame(mirror)];
    for (const ops of stream) {
      mirror = applyPatch(mirror, ops);
      frames.push(frame(mirror));
    }
    const header = "Switchboard http://127.0.0.1:7433 — live";
    const backends = "Backends: claude is warm";
    expect(frames).toEqual([
      [header, "Nothing is running.", backends],
      [header, "One task running.", "[░░░░░░░░░░░░░░░░░░░░]   0%  OCR the invoices · running · step 1 of 4", backends],
      [
        header,
        "One task running.",
        "[████████████░░░░░░░░]  60%  OCR the invoices · running · step 3 of 4 · about 12 minutes left",
        backends,
      ],
      [
        header,
        "One task waiting for you.",
        "[████████████░░░░░░░░]  60%  OCR the invoices · waiting for your approval · step 3 of 4 · about 12 minutes left",
        backends,
      ],
      [
        header,
        "Nothing is running.",
        "Last finished: Your task “OCR the invoices” finished; the output is in artifacts/ocr.md",
        backends,
      ],
    ]);
  });

  test("while reconnecting, the header says so and the last known state stays on screen", () => {
    const lines = frame({ ...emptyContext, activeTasks: [task({ progress: 0.25 })] }, "reconnecting");
    expect(lines[0]).toBe("Switchboard http://127.0.0.1:7433 — reconnecting… (showing the last known state)");
    expect(lines[2]).toBe("[█████░░░░░░░░░░░░░░░]  25%  OCR the invoices · running");
  });

  test("before the first snapshot it says it is waiting", () => {
    expect(
      renderWatch({ context: null, health: null, connection: "connecting", hubUrl: "h", now: NOW, width: 80 }),
    ).toEqual(["Switchboard h — connecting…", "Waiting for the hub…", "Backends: not known yet"]);
  });

  test("lines are cut to the terminal width", () => {
    const lines = frame({ ...emptyContext, activeTasks: [task({ description: "x".repeat(200) })] }, "live", 40);
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(40);
    expect(lines[2]?.endsWith("…")).toBe(true);
  });

  test("width is counted in terminal columns: wide characters and emoji take two, joined emoji stay whole", () => {
    const lines = frame(
      { ...emptyContext, activeTasks: [task({ description: "請求書のOCRを実行する 📄📄📄 👩‍💻 and more words" })] },
      "live",
      40,
    );
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(40);
    // Counting code points instead would let this line run past 40 columns.
    expect([...(lines[2] as string)].length).toBeLessThan(40);
    expect(lines[2]?.endsWith("…")).toBe(true);
  });

  test.each([
    ["fits as it is", "日本語", 6, "日本語"],
    ["a wide character is never split", "日本語です", 6, "日本…"],
    ["a joined emoji is kept whole or left out", "ab👩‍💻cd", 4, "ab…"],
    ["a combining mark adds no column", "e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301e\u0301"],
  ])("fitWidth: %s", (_, line, width, fitted) => {
    expect(fitWidth(line, width)).toBe(fitted);
    expect(stringWidth(fitWidth(line, width))).toBeLessThanOrEqual(width);
  });
});
