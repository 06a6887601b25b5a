// The progress phrasing every channel speaks: each wording as a table of inputs and sentences.
import { describe, expect, test } from "vitest";
import {
  agoText,
  answerHead,
  answerSummary,
  backendSentence,
  countWord,
  finishedWithAnswerSentence,
  followUpSentence,
  healthSentence,
  notTakenSentence,
  percent,
  queuedAhead,
  remainingText,
  startedSentence,
  stepSentence,
  stepText,
  summarySentence,
  taskLabel,
  taskSentence,
  workspaceText,
} from "../../client/phrasing.ts";
import type { BackendHealth, Context, Health, Task } from "../../shared/schemas.ts";
import { makeBackend, makeContext, makeTask } from "../fixtures/tasks.ts";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const inMs = (ms: number) => new Date(NOW.getTime() + ms).toISOString();
const inMinutes = (minutes: number) => inMs(minutes * 60_000);

const task = (overrides: Partial<Task> = {}): Task =>
  makeTask({ taskId: "route_ocr", description: "OCR", startedAt: inMinutes(-18), ...overrides });

const context = (activeTasks: Task[]): Context => makeContext(activeTasks);

const backend = (overrides: Partial<BackendHealth> = {}): BackendHealth => makeBackend(overrides);

describe("percent", () => {
  test.each([
    ["progress 0.6", { progress: 0.6 }, 60],
    ["progress 0.999 (never rounds up to a false 100)", { progress: 0.999 }, 99],
    ["progress 1 while still running", { progress: 1 }, 100],
    ["steps only: on step 3 of 4 (two done)", { currentStep: 3, totalSteps: 4 }, 50],
    ["steps only: on step 1 of 4 (none done)", { currentStep: 1, totalSteps: 4 }, 0],
    ["one step, on it", { currentStep: 1, totalSteps: 1 }, 0],
    ["progress wins over steps", { progress: 0.3, currentStep: 3, totalSteps: 4 }, 30],
    ["zero steps and no progress: unknown", { currentStep: 0, totalSteps: 0 }, null],
    ["complete, whatever progress says", { status: "complete", progress: 0.2 }, 100],
  ] as const)("%s → %j", (_name, fields, expected) => {
    expect(percent(task(fields as Partial<Task>))).toBe(expected);
  });
});

describe("remainingText", () => {
  test.each([
    ["no ETA", null, null],
    ["ETA already passed", inMinutes(-3), "taking longer than expected"],
    ["ETA now", inMs(0), "less than a minute left"],
    ["59 seconds", inMs(59_000), "less than a minute left"],
    ["exactly one minute", inMinutes(1), "about 1 minute left"],
    ["12 minutes", inMinutes(12), "about 12 minutes left"],
    ["12 minutes 20 seconds rounds down", inMs(12 * 60_000 + 20_000), "about 12 minutes left"],
    ["12 minutes 40 seconds rounds up", inMs(12 * 60_000 + 40_000), "about 13 minutes left"],
    ["59 minutes", inMinutes(59), "about 59 minutes left"],
    ["one hour", inMinutes(60), "about 1 hour left"],
    ["an hour and 40 minutes", inMinutes(100), "about 2 hours left"],
    ["two hours", inMinutes(120), "about 2 hours left"],
    ["a day and a half", inMinutes(36 * 60), "about 36 hours left"],
    ["three days", inMinutes(3 * 24 * 60), "about 3 days left"],
    ["not a timestamp", "soon", null],
  ] as const)("%s → %j", (_name, eta, expected) => {
    expect(remainingText(eta, NOW)).toBe(expected);
  });

  test("accepts now as a Date, epoch milliseconds or an ISO string alike", () => {
    const eta = inMinutes(12);
    expect(remainingText(eta, NOW.getTime())).toBe("about 12 minutes left");
    expect(remainingText(eta, NOW.toISOString())).toBe("about 12 minutes left");
  });
});

describe("steps", () => {
  test.each([
    [{ currentStep: 0, totalSteps: 0 }, null],
    [{ currentStep: 0, totalSteps: 1 }, "1 step planned"],
    [{ currentStep: 0, totalSteps: 4 }, "4 steps planned"],
    [{ currentStep: 1, totalSteps: 1 }, "step 1 of 1"],
    [{ currentStep: 2, totalSteps: 4 }, "step 2 of 4"],
  ])("stepText(%j) → %j", (fields, expected) => {
    expect(stepText(fields)).toBe(expected);
  });

  test.each([
    [{ currentStep: 2, totalSteps: 4, lastUpdate: "parsing page 3" }, "step 2 of 4 — parsing page 3"],
    [{ currentStep: 2, totalSteps: 4, lastUpdate: "" }, "step 2 of 4"],
    [{ currentStep: 0, totalSteps: 0, lastUpdate: "warming up" }, "warming up"],
    [{ currentStep: 0, totalSteps: 0, lastUpdate: "  " }, ""],
    [
      { currentStep: 1, totalSteps: 1, lastUpdate: "step 1 of 1 waits for approval: Edit notes.txt" },
      "step 1 of 1 waits for approval: Edit notes.txt",
    ],
    [{ currentStep: 1, totalSteps: 4, lastUpdate: "step 12 of 40 copied" }, "step 1 of 4 — step 12 of 40 copied"],
    [{ currentStep: 1, totalSteps: 4, lastUpdate: "step 1 of 40 copied" }, "step 1 of 4 — step 1 of 40 copied"],
  ])("stepSentence(%j) → %j", (fields, expected) => {
    expect(stepSentence(fields)).toBe(expected);
  });
});

describe("workspaceText", () => {
  test.each([
    [{ workspace: "site" }, "workspace site"],
    [{ workspace: null }, null],
    [{}, null],
  ])("workspaceText(%j) → %j", (fields, expected) => {
    expect(workspaceText(fields)).toBe(expected);
  });
});

describe("taskLabel", () => {
  test.each([
    ["OCR", "Your OCR task"],
    ["Trust analysis", "Your trust analysis task"],
    ["OCR task", "Your OCR task"],
    ["The nightly backup task.", "Your nightly backup task"],
    ["Analyze trust documents", "Your task “Analyze trust documents”"],
    [
      "Rename the payments module to billing and update every import that refers to it",
      "Your task “Rename the payments module to billing and update every…”",
    ],
    ["  OCR   scans  ", "Your OCR scans task"],
  ])("%j → %j", (description, expected) => {
    expect(taskLabel({ description })).toBe(expected);
  });
});

describe("taskSentence", () => {
  test.each([
    [
      "running with progress and ETA",
      { progress: 0.6, eta: inMinutes(12) },
      "Your OCR task is 60% done, about 12 minutes left",
    ],
    ["running with progress, no ETA", { progress: 0.6 }, "Your OCR task is 60% done"],
    ["running, unknown progress, with ETA", { eta: inMinutes(120) }, "Your OCR task is running, about 2 hours left"],
    ["running, unknown progress, no ETA", {}, "Your OCR task is running"],
    ["running on the first of four steps", { currentStep: 1, totalSteps: 4 }, "Your OCR task is on step 1 of 4"],
    ["running, steps planned but none begun", { currentStep: 0, totalSteps: 4 }, "Your OCR task has just started"],
    [
      "running, one step of one",
      { currentStep: 1, totalSteps: 1, eta: inMs(20_000) },
      "Your OCR task is on step 1 of 1, less than a minute left",
    ],
    ["running, steps give the percent", { currentStep: 3, totalSteps: 4 }, "Your OCR task is 50% done"],
    ["waiting for approval", { status: "pending-approval" }, "Your OCR task is waiting for your approval"],
    [
      "waiting for approval of a named step",
      { status: "pending-approval", awaitingApproval: { step: 1, title: "Apply the rename", detail: "git mv" } },
      "Your OCR task is waiting for your approval: Apply the rename",
    ],
    [
      "waiting for approval, title from the plan step it names (1-based)",
      {
        status: "pending-approval",
        plan: { steps: [{ title: "Read" }, { title: "Push to main" }] },
        awaitingApproval: { step: 2, title: "", detail: "" },
      },
      "Your OCR task is waiting for your approval: Push to main",
    ],
    [
      "waiting for approval of the first step, title from the plan",
      {
        status: "pending-approval",
        plan: { steps: [{ title: "Read" }, { title: "Push to main" }] },
        awaitingApproval: { step: 1, title: "", detail: "" },
      },
      "Your OCR task is waiting for your approval: Read",
    ],
    [
      "waiting for approval of a tool call: its summary",
      {
        status: "pending-approval",
        awaitingApproval: {
          kind: "tool",
          id: "tool_0123456789ab",
          step: 1,
          title: "Bash: npm test",
          detail: "npm test",
          tool: "Bash",
          summary: "Bash: npm test",
        },
      },
      "Your OCR task is waiting for your approval: Bash: npm test",
    ],
    [
      "finished with output",
      { status: "complete", outputPath: "artifacts/ocr.md" },
      "Your OCR task finished; the output is in artifacts/ocr.md",
    ],
    ["finished without output", { status: "complete" }, "Your OCR task finished"],
    ["failed with an error", { status: "failed", error: "claude timed out" }, "Your OCR task failed: claude timed out"],
    ["failed with no error", { status: "failed" }, "Your OCR task failed without an error message"],
  ] as const)("%s", (_name, fields, expected) => {
    expect(taskSentence(task(fields as Partial<Task>), null, NOW)).toBe(expected);
  });

  test.each([
    [0, "Your OCR task is queued, next in line"],
    [1, "Your OCR task is queued behind 1 other"],
    [2, "Your OCR task is queued behind 2 others"],
  ])("a queued task with %i queued before it", (ahead, expected) => {
    const before = Array.from({ length: ahead }, (_, i) => task({ taskId: `q${i}`, status: "queued" }));
    const running = task({ taskId: "r", status: "running" });
    const mine = task({ status: "queued" });
    const after = task({ taskId: "later", status: "queued" });
    const ctx = context([running, ...before, mine, after]);
    expect(queuedAhead(mine, ctx)).toBe(ahead);
    expect(taskSentence(mine, ctx, NOW)).toBe(expected);
  });
});

describe("summarySentence", () => {
  const of = (...statuses: Task["status"][]) => context(statuses.map((status, i) => task({ taskId: `t${i}`, status })));
  test.each([
    [[], "Nothing is running"],
    [["running"], "One task running"],
    [["running", "running", "pending-approval"], "Two tasks running, one waiting for you"],
    [["queued"], "One task queued"],
    [["pending-approval", "pending-approval"], "Two tasks waiting for you"],
    [
      ["running", "queued", "queued", "queued", "pending-approval"],
      "One task running, three queued, one waiting for you",
    ],
    [Array(12).fill("running"), "12 tasks running"],
  ] as const)("%j → %j", (statuses, expected) => {
    expect(summarySentence(of(...statuses), NOW)).toBe(expected);
  });

  test("with no context yet, nothing is running", () => {
    expect(summarySentence(null, NOW)).toBe("Nothing is running");
  });

  test.each([
    [0, "no"],
    [10, "ten"],
    [11, "11"],
  ])("countWord(%i) → %j", (n, word) => {
    expect(countWord(n)).toBe(word);
  });
});

describe("backend and health sentences", () => {
  test.each([
    ["warm, pinged 2 minutes ago", backend(), "claude is warm, last good ping 2 minutes ago"],
    [
      "warm with a pre-warmed session ready",
      backend({
        prewarmed: [
          { id: "s1", state: "ready", startedAt: inMinutes(-1), readyAt: inMinutes(-1), expiresAt: null, pid: 9 },
        ],
      }),
      "claude is warm, one pre-warmed session ready, last good ping 2 minutes ago",
    ],
    [
      "cold, never pinged",
      backend({ status: "cold", lastPing: null, lastSuccess: null }),
      "claude is cold, never pinged",
    ],
    [
      "dead with a reason",
      backend({ status: "dead", reason: "not installed", consecutiveFailures: 1 }),
      "claude is dead: not installed",
    ],
    [
      "dead after repeated failures",
      backend({ status: "dead", reason: "timed out", consecutiveFailures: 3 }),
      "claude is dead: timed out (3 failed pings in a row)",
    ],
    ["dead without a reason", backend({ status: "dead" }), "claude is dead"],
  ])("%s", (_name, entry, expected) => {
    expect(backendSentence("claude", entry, NOW)).toBe(expected);
  });

  const health = (backends: Record<string, Partial<BackendHealth>>): Health => ({
    lastUpdated: NOW.toISOString(),
    backends: Object.fromEntries(Object.entries(backends).map(([name, fields]) => [name, backend(fields)])),
  });
  test.each([
    ["no backends", {}, "No backends are configured"],
    ["one warm", { claude: {} }, "claude is warm"],
    [
      "all ready",
      { codex: { status: "healthy" }, claude: {} },
      "Both backends are ready: claude is warm; codex is healthy",
    ],
    [
      "three, all ready",
      { claude: {}, codex: {}, ollama: { status: "healthy" } },
      "All three backends are ready: claude and codex are warm; ollama is healthy",
    ],
    [
      "mixed, with the dead one's reason",
      { ollama: { status: "dead", reason: "unreachable" }, codex: {}, claude: {}, gemini: { status: "cold" } },
      "claude and codex are warm; gemini is cold; ollama is dead: unreachable",
    ],
  ] as const)("%s", (_name, backends, expected) => {
    expect(healthSentence(health(backends as Record<string, Partial<BackendHealth>>))).toBe(expected);
  });

  test.each([
    [30_000, "just now"],
    [60_000, "1 minute ago"],
    [45 * 60_000, "45 minutes ago"],
    [3 * 3_600_000, "3 hours ago"],
    [26 * 3_600_000, "1 day ago"],
  ])("agoText %i ms → %j", (ms, expected) => {
    expect(agoText(NOW.getTime() - ms, NOW)).toBe(expected);
  });
});

describe("intake, follow-up and answer sentences", () => {
  test.each([
    ["OCR", "Started your OCR task"],
    ["Summarise the quarterly report", "Started your task “Summarise the quarterly report”"],
  ])("startedSentence(%j) → %j", (description, sentence) => {
    expect(startedSentence({ description })).toBe(sentence);
  });

  test("followUpSentence names the task and the step the follow-up became", () => {
    expect(followUpSentence({ description: "OCR" }, 3)).toBe("Added to your OCR task as step 3");
  });

  test.each([
    [
      "start",
      "the hub could not be reached; try again in a moment.",
      "Could not start the task: the hub could not be reached; try again in a moment",
    ],
    ["follow-up", "task route_x is no longer kept", "Could not add that to the task: task route_x is no longer kept"],
  ] as const)("notTakenSentence(%j, …)", (action, reason, sentence) => {
    expect(notTakenSentence(action, reason)).toBe(sentence);
  });

  test.each([
    [
      "The invoices total 4,200 euros. Three are overdue. One is disputed.",
      "The invoices total 4,200 euros. Three are overdue.",
    ],
    [
      "# Summary\n\n**The invoices** total 4,200 euros! See [the list](http://x.test/a).\n\n- one\n- two",
      "Summary The invoices total 4,200 euros! See the list.",
    ],
    ["```js\nconsole.log(1)\n```\nDone: it works", "Done: it works"],
    // A closing quote, curly or straight, stays with the sentence it ends.
    ["He said “all paid.” Then he left. Later more.", "He said “all paid.” Then he left."],
    ["It’s ‘done.’ Truly. No more.", "It’s ‘done.’ Truly."],
    ['She wrote "ok." Fine. Next.', 'She wrote "ok." Fine.'],
    ["", ""],
  ])("answerSummary(%j) → %j", (markdown, summary) => {
    expect(answerSummary(markdown)).toBe(summary);
  });

  test("answerSummary cuts a very long first sentence at a word", () => {
    const summary = answerSummary(`${"word ".repeat(200)}end.`);
    expect(summary.length).toBeLessThanOrEqual(301);
    expect(summary.endsWith("…")).toBe(true);
  });

  test("finishedWithAnswerSentence: a complete task with an answer says its gist; otherwise the task's sentence", () => {
    const done = task({ status: "complete", outputPath: "artifacts/ocr.md" });
    expect(finishedWithAnswerSentence(done, "Twelve pages read. Two were blank. The rest is fine.", NOW)).toBe(
      "Your OCR task finished: Twelve pages read. Two were blank.",
    );
    expect(finishedWithAnswerSentence(done, null, NOW)).toBe(
      "Your OCR task finished; the output is in artifacts/ocr.md",
    );
    const failed = task({ status: "failed", error: "timed out" });
    expect(finishedWithAnswerSentence(failed, "partial", NOW)).toBe("Your OCR task failed: timed out");
  });

  test.each([
    ["short", 10, "short", false],
    ["para one\n\npara two is longer", 14, "para one…", true],
    ["alpha beta gamma delta", 15, "alpha beta…", true],
    ["abcdefghijklmnop", 8, "abcdefg…", true],
  ])("answerHead(%j, %i)", (text, max, head, cut) => {
    const result = answerHead(text, max);
    expect(result).toEqual({ head, cut });
    expect(result.head.length).toBeLessThanOrEqual(max);
  });
});
