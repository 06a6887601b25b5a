// What a spoken sentence asks the voice channel for: a table of what was heard, in a given context
// and with a given last task, and the decision taken.
import { describe, expect, test } from "vitest";
import { interpretUtterance, type Utterance, whichSentence } from "../../client/voice/utterance.ts";
import { makeContext, makeTask } from "../fixtures/tasks.ts";

const ocr = makeTask({ taskId: "ocr", description: "OCR the invoices" });
const deploy = makeTask({ taskId: "deploy", description: "Deploy the site", status: "pending-approval" });
const backup = makeTask({ taskId: "backup", description: "Back up the photos", status: "pending-approval" });
const report = makeTask({ taskId: "report", description: "Summarise the report", status: "complete" });

const oneWaiting = makeContext([ocr, deploy], { recentCompleted: [report] });
const twoWaiting = makeContext([ocr, deploy, backup]);
const nothingWaits = makeContext([ocr], { recentCompleted: [report] });

describe("interpretUtterance", () => {
  test.each<[string, string, ReturnType<typeof makeContext> | null, string | null, Utterance]>([
    [
      "start with the task",
      "Start summarising the 2023 tax files",
      nothingWaits,
      "ocr",
      { kind: "start", text: "summarising the 2023 tax files" },
    ],
    [
      "start a new task to …",
      "start a new task to translate the letter.",
      nothingWaits,
      null,
      { kind: "start", text: "translate the letter" },
    ],
    ["new task: …", "New task: book the flights", nothingWaits, null, { kind: "start", text: "book the flights" }],
    ["start alone", "start", nothingWaits, null, { kind: "start", text: "" }],
    [
      "start … in workspace NAME",
      "Start fixing the failing test in workspace Site.",
      nothingWaits,
      null,
      {
        kind: "start",
        text: "fixing the failing test in workspace Site",
        workspace: { name: "site", text: "fixing the failing test" },
      },
    ],
    [
      "start … in the NAME workspace",
      "start a task to rename the trust files, in the docs workspace",
      nothingWaits,
      null,
      {
        kind: "start",
        text: "rename the trust files, in the docs workspace",
        workspace: { name: "docs", text: "rename the trust files" },
      },
    ],
    [
      "a workspace mentioned but not at the end is the task's own words",
      "start cleaning the workspace folder in the attic",
      nothingWaits,
      null,
      { kind: "start", text: "cleaning the workspace folder in the attic" },
    ],
    ["status", "Status?", nothingWaits, null, { kind: "status", taskId: null }],
    ["what's happening", "what's happening", nothingWaits, null, { kind: "status", taskId: null }],
    ["how is a named task", "How is the OCR task going?", nothingWaits, null, { kind: "status", taskId: "ocr" }],
    ["how is a finished task", "how's the report", nothingWaits, null, { kind: "status", taskId: "report" }],
    ["how are things", "how are things", nothingWaits, null, { kind: "status", taskId: null }],
    ["approve, one waiting", "Approve", oneWaiting, null, { kind: "decide", decision: "approve", taskId: "deploy" }],
    ["yes approve", "yes, approve it", oneWaiting, null, { kind: "decide", decision: "approve", taskId: "deploy" }],
    ["reject, one waiting", "reject", oneWaiting, "ocr", { kind: "decide", decision: "reject", taskId: "deploy" }],
    [
      "approve, several waiting",
      "approve",
      twoWaiting,
      null,
      { kind: "which", decision: "approve", taskIds: ["deploy", "backup"] },
    ],
    [
      "approve by name among several",
      "approve the photos",
      twoWaiting,
      null,
      { kind: "decide", decision: "approve", taskId: "backup" },
    ],
    [
      "reject by name among several",
      "reject deploy",
      twoWaiting,
      null,
      { kind: "decide", decision: "reject", taskId: "deploy" },
    ],
    ["approve, nothing waits", "approve", nothingWaits, null, { kind: "nothing-waits", decision: "approve" }],
    [
      "anything else, with a last task",
      "and also check the 2023 files",
      nothingWaits,
      "ocr",
      { kind: "follow-up", taskId: "ocr", text: "and also check the 2023 files" },
    ],
    [
      "anything else, the last task finished",
      "now send it to Anna",
      nothingWaits,
      "report",
      { kind: "follow-up", taskId: "report", text: "now send it to Anna" },
    ],
    [
      "anything else, no last task",
      "check the 2023 files",
      nothingWaits,
      null,
      { kind: "start", text: "check the 2023 files" },
    ],
    [
      "anything else, the last task is long gone",
      "check the 2023 files",
      nothingWaits,
      "evicted",
      { kind: "start", text: "check the 2023 files" },
    ],
    ["nothing heard", "  ?! ", nothingWaits, "ocr", { kind: "empty" }],
    ["not connected yet", "check the files", null, "ocr", { kind: "start", text: "check the files" }],
  ])("%s: %j", (_what, heard, context, lastTaskId, expected) => {
    expect(interpretUtterance(heard, context, lastTaskId)).toEqual(expected);
  });
});

describe("whichSentence", () => {
  test("names every waiting task and says how to choose", () => {
    expect(whichSentence("approve", [deploy, backup])).toBe(
      "Two tasks wait for your approval: your task “Deploy the site” and your task “Back up the photos”. Say approve and the task's name.",
    );
  });
});
