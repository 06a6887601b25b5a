// When a chat channel looks for new answers, and which answers it still owes: tables.
import { describe, expect, test } from "vitest";
import { answerCheckDue, answerFileName, answersToDeliver } from "../../client/answer-feed.ts";
import type { Task, TranscriptEntry } from "../../shared/schemas.ts";
import { makeTask } from "../fixtures/tasks.ts";

const running = (step: number, totalSteps = 3) => makeTask({ status: "running", currentStep: step, totalSteps });

describe("answerCheckDue", () => {
  test.each<[string, Task | undefined, Task, boolean]>([
    ["the step moved on", running(1), running(2), true],
    ["the same step, new progress", running(2), { ...running(2), progress: 0.5 }, false],
    ["a follow-up queued (more steps, same step)", running(2, 3), running(2, 4), false],
    ["it started to wait for approval", running(2), { ...running(2), status: "pending-approval" }, true],
    ["it finished", running(3), { ...running(3), status: "complete" }, true],
    ["it failed", running(1), { ...running(1), status: "failed" }, true],
    ["it was reopened by a follow-up", { ...running(3), status: "complete" }, running(4, 4), true],
    [
      "still finished, nothing changed",
      { ...running(3), status: "complete" },
      { ...running(3), status: "complete" },
      false,
    ],
    ["first seen on its first step", undefined, running(1), false],
    ["first seen past its first step", undefined, running(2), true],
    ["first seen finished", undefined, { ...running(1), status: "complete" }, true],
  ])("%s → %s", (_what, previous, next, due) => {
    expect(answerCheckDue(previous, next)).toBe(due);
  });
});

function entry(step: number, at: string): TranscriptEntry {
  return {
    step,
    title: `Step ${step}`,
    prompt: "p",
    answer: `answer ${step}`,
    backend: "claude",
    conversation: null,
    from: null,
    at,
  };
}

describe("answersToDeliver", () => {
  const one = entry(1, "2026-03-01T12:00:00.000Z");
  const two = entry(2, "2026-03-01T12:01:00.000Z");
  const twoAgain = entry(2, "2026-03-01T12:02:00.000Z");
  test.each<[string, TranscriptEntry[], string[], string | null, number[]]>([
    ["nothing delivered yet", [one, two], [], null, [1, 2]],
    ["the first already delivered", [one, two], ["1@2026-03-01T12:00:00.000Z"], null, [2]],
    [
      "a retried step answers again",
      [one, two, twoAgain],
      ["1@2026-03-01T12:00:00.000Z", "2@2026-03-01T12:01:00.000Z"],
      null,
      [2],
    ],
    ["older than the channel's first sight of the task", [one, two], [], "2026-03-01T12:00:30.000Z", [2]],
    ["in the order they were given", [two, one], [], null, [1, 2]],
  ])("%s", (_what, entries, delivered, since, steps) => {
    expect(answersToDeliver(entries, new Set(delivered), since).map((e) => e.step)).toEqual(steps);
  });
});

describe("answerFileName", () => {
  test.each([
    ["route_abc", 2, "route_abc-step-2.md"],
    ["odd:id/../x", 1, "odd_id_.._x-step-1.md"],
  ])("%s step %i → %s", (taskId, step, name) => {
    expect(answerFileName(taskId, step)).toBe(name);
  });
});
