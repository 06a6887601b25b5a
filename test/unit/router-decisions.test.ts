// The router's decisions as data: what a restart does with a task, where it resumes, whether a
// failure is retried and how it reads, which queued tasks start, and how a job is built.
import { describe, expect, it } from "vitest";
import { BackendFailure } from "../../server/backends/backend.ts";
import { newJob, remainingMs, stepsOfRequest, stepsOfTask } from "../../server/router/jobs.ts";
import { nextJobs } from "../../server/router/lanes.ts";
import { recoveryPlan, resumePoint } from "../../server/router/recovery.ts";
import { failureMessage, shouldRetry } from "../../server/router/retry.ts";

const plan = (n: number) => ({ steps: Array.from({ length: n }, (_, i) => ({ title: `s${i + 1}` })) });

describe("resumePoint", () => {
  it.each([
    { currentStep: 0, steps: 3, next: 0 },
    { currentStep: 1, steps: 3, next: 0 },
    { currentStep: 2, steps: 3, next: 1 },
    { currentStep: 3, steps: 3, next: 2 },
    { currentStep: 7, steps: 3, next: 2 },
    { currentStep: 2, steps: 0, next: 0 },
  ])("step $currentStep of $steps resumes at index $next", ({ currentStep, steps, next }) => {
    expect(resumePoint({ currentStep, plan: plan(steps) })).toBe(next);
  });
});

describe("recoveryPlan", () => {
  const toolWait = { kind: "tool" as const, id: "tool_1", step: 1, title: "Bash: npm test", detail: "npm test" };
  const approved = { decision: "approved" as const, channel: "telegram" as const, at: "2026-01-01T00:00:00.000Z" };
  it.each([
    {
      name: "running, onRestart fail → failed with hub restarted",
      task: { status: "running" as const, currentStep: 2, plan: plan(3) },
      onRestart: "fail" as const,
      expected: { action: "fail", error: "hub restarted" },
    },
    {
      name: "running, onRestart requeue → queued again at its step",
      task: { status: "running" as const, currentStep: 2, plan: plan(3) },
      onRestart: "requeue" as const,
      expected: { action: "queue", next: 1, approvedStep: null, restarted: true },
    },
    {
      name: "queued → queued at its step whatever onRestart says",
      task: { status: "queued" as const, currentStep: 0, plan: plan(2) },
      onRestart: "fail" as const,
      expected: { action: "queue", next: 0, approvedStep: null, restarted: false },
    },
    {
      name: "waiting for approval → held at its step",
      task: { status: "pending-approval" as const, currentStep: 2, plan: plan(3), approval: null },
      onRestart: "fail" as const,
      expected: { action: "wait", next: 1 },
    },
    {
      name: "approved and running, requeue → the approved step runs without asking again",
      task: { status: "running" as const, currentStep: 3, plan: plan(3), approval: approved },
      onRestart: "requeue" as const,
      expected: { action: "queue", next: 2, approvedStep: 2, restarted: true },
    },
    {
      name: "a tool call waiting for approval, onRestart fail → failed, saying the call was denied",
      task: { status: "pending-approval" as const, currentStep: 1, plan: plan(1), awaitingApproval: toolWait },
      onRestart: "fail" as const,
      expected: {
        action: "fail",
        error: "the hub restarted while Bash: npm test waited for approval; the tool call was denied",
      },
    },
    {
      name: "a tool call waiting for approval, onRestart requeue → its step runs again, saying the call was denied",
      task: { status: "pending-approval" as const, currentStep: 1, plan: plan(2), awaitingApproval: toolWait },
      onRestart: "requeue" as const,
      expected: {
        action: "queue",
        next: 0,
        approvedStep: null,
        restarted: true,
        note: "the hub restarted while Bash: npm test waited for approval; the tool call was denied; queued again",
      },
    },
  ])("$name", ({ task, onRestart, expected }) => {
    expect(recoveryPlan(task, onRestart)).toEqual(expected);
  });
});

describe("shouldRetry", () => {
  it.each([
    { retryOnFailure: true, failedOn: ["claude"], error: new BackendFailure("timed out"), retry: true },
    { retryOnFailure: false, failedOn: ["claude"], error: new BackendFailure("timed out"), retry: false },
    { retryOnFailure: true, failedOn: ["claude", "codex"], error: new BackendFailure("timed out"), retry: false },
    { retryOnFailure: true, failedOn: ["claude"], error: new TypeError("a bug"), retry: false },
  ])("retryOnFailure $retryOnFailure, failed on $failedOn, $error.name → $retry", (input) => {
    expect(shouldRetry(input)).toBe(input.retry);
  });
});

describe("failureMessage", () => {
  it.each([
    {
      step: { number: 2, total: 3, title: "Summarise" },
      error: new BackendFailure("timed out"),
      message: "step 2 of 3 (Summarise) failed on claude: timed out",
    },
    {
      step: { number: 1, total: 1, title: "Do" },
      error: new BackendFailure("failed", "claude exited with code 3"),
      message: "step 1 of 1 (Do) failed on claude: claude exited with code 3",
    },
    { step: null, error: new Error("disk full"), message: "failed on claude: disk full" },
    { step: null, error: "a string", message: "failed on claude: a string" },
  ])("$message", ({ step, error, message }) => {
    expect(failureMessage(step, "claude", error)).toBe(message);
  });
});

describe("nextJobs", () => {
  const known = (id: string) => id !== "gone";
  it.each([
    { queue: ["a", "b", "c"], running: 0, concurrency: 2, start: ["a", "b"], rest: ["c"] },
    { queue: ["a", "b"], running: 1, concurrency: 1, start: [], rest: ["a", "b"] },
    { queue: ["gone", "a", "b"], running: 0, concurrency: 1, start: ["a"], rest: ["b"] },
    { queue: ["a", "gone"], running: 0, concurrency: 3, start: ["a"], rest: [] },
    { queue: [], running: 0, concurrency: 1, start: [], rest: [] },
  ])(
    "queue $queue, $running running of $concurrency → start $start",
    ({ queue, running, concurrency, start, rest }) => {
      expect(nextJobs({ queue, running, concurrency, known })).toEqual({ start, queue: rest });
    },
  );
});

describe("jobs", () => {
  const output = { absolute: "/p/artifacts/t.md", display: "artifacts/t.md", artifactsDir: "/p/artifacts" };

  it("newJob starts queued at the first step unless told otherwise", () => {
    const steps = stepsOfRequest({ description: "Look into it" });
    expect(newJob({ taskId: "t", description: "Look into it", steps, backend: "claude", output })).toEqual({
      taskId: "t",
      description: "Look into it",
      steps: [{ title: "Look into it", prompt: "Look into it", requiresApproval: false }],
      backend: "claude",
      next: 0,
      conversation: null,
      approvedStep: null,
      state: "queued",
      abort: null,
      failedOn: [],
      output,
    });
    const resumed = newJob({
      taskId: "t",
      description: "d",
      steps,
      backend: "codex",
      output,
      next: 2,
      approvedStep: 2,
    });
    expect([resumed.next, resumed.approvedStep]).toEqual([2, 2]);
  });

  it("a stored step without a prompt runs the description", () => {
    expect(
      stepsOfTask({
        description: "Do it",
        plan: { steps: [{ title: "a" }, { title: "b", prompt: "B", requiresApproval: true }] },
      }),
    ).toEqual([
      { title: "a", prompt: "Do it", requiresApproval: false },
      { title: "b", prompt: "B", requiresApproval: true },
    ]);
  });

  it("remainingMs counts the steps left, at least one", () => {
    const steps = stepsOfRequest({
      description: "x",
      steps: [
        { title: "a", prompt: "a" },
        { title: "b", prompt: "b" },
      ],
    });
    expect(remainingMs({ steps, next: 0 }, 1000)).toBe(2000);
    expect(remainingMs({ steps, next: 2 }, 1000)).toBe(1000);
  });
});
