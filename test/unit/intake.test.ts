// What a channel checks before it hands a person's text to the hub, and which Slack events are a
// person's reply in a thread: tables of inputs and outcomes.
import { describe, expect, test } from "vitest";
import { parseChatStart, TASK_TEXT_LIMIT, textProblem } from "../../client/intake.ts";
import { asThreadReply } from "../../server/slack-requests.ts";

describe("textProblem", () => {
  test.each([
    ["Summarise the report", null],
    ["  padded  ", null],
    ["x".repeat(TASK_TEXT_LIMIT), null],
    ["", "say what the task should do"],
    ["   \n ", "say what the task should do"],
  ])("%j → %j", (text, problem) => {
    expect(textProblem(text)).toBe(problem);
  });

  test("a text over the limit names the limit and the length", () => {
    expect(textProblem("x".repeat(TASK_TEXT_LIMIT + 5))).toMatch(
      new RegExp(
        `^a task's text may be at most ${TASK_TEXT_LIMIT} characters \\(this one has ${TASK_TEXT_LIMIT + 5}\\)`,
      ),
    );
  });
});

describe("parseChatStart", () => {
  test.each([
    ["in workspace site: fix the failing test", { text: "fix the failing test", workspace: "site" }],
    ["  In Workspace Site :  fix it ", { text: "fix it", workspace: "Site" }],
    ["in workspace site-2:fix it", { text: "fix it", workspace: "site-2" }],
    ["in workspace site:", { text: "", workspace: "site" }],
    ["in workspace /etc: read it", { text: "read it", workspace: "/etc" }],
    // No colon after one word: the task's own text, never a name.
    ["in workspace settings, add a toggle", { text: "in workspace settings, add a toggle" }],
    ["in workspace site fix it", { text: "in workspace site fix it" }],
    ["fix the failing test in workspace site", { text: "fix the failing test in workspace site" }],
    ["Note: in workspace site: later", { text: "Note: in workspace site: later" }],
  ])("%j → %j", (typed, parsed) => {
    expect(parseChatStart(typed)).toEqual(parsed);
  });
});

describe("asThreadReply", () => {
  const reply = { type: "message", channel: "C1", user: "U1", text: "and 2023", ts: "2.000002", thread_ts: "1.000001" };
  test.each([
    [
      "a person's reply in a thread",
      reply,
      { channel: "C1", user: "U1", text: "and 2023", ts: "2.000002", threadTs: "1.000001" },
    ],
    ["a top-level message", { ...reply, thread_ts: undefined }, null],
    ["a thread's parent (thread_ts = ts)", { ...reply, thread_ts: reply.ts }, null],
    ["an edit", { ...reply, subtype: "message_changed" }, null],
    ["a bot's message", { ...reply, bot_id: "B1" }, null],
    ["an empty text", { ...reply, text: "  " }, null],
    ["another event type", { ...reply, type: "reaction_added" }, null],
  ])("%s", (_what, event, expected) => {
    expect(asThreadReply(event)).toEqual(expected);
  });
});
