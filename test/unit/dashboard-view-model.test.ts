// The dashboard's view model: what each section says, decided from the documents and the time.
import { describe, expect, test } from "vitest";
import { newTaskRequest, workspaceChoices } from "../../client/dashboard/new-task-view.ts";
import {
  ago,
  approvalItem,
  backendItem,
  dashboardView,
  diffLines,
  finishedItem,
  queueItem,
  RECENT_SHOWN,
  sparklinePoints,
} from "../../client/dashboard/view-model.ts";
import type { BackendHealth, Context, Task, WorkspaceSummary } from "../../shared/schemas.ts";
import { makeBackend, makeTask } from "../fixtures/tasks.ts";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const minutesBefore = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

const task = (overrides: Partial<Task> = {}): Task => makeTask(overrides);

const backend = (overrides: Partial<BackendHealth> = {}): BackendHealth =>
  makeBackend({
    kind: "claude-code",
    status: "healthy",
    latencyMs: 412.6,
    lastPing: minutesBefore(3),
    lastSuccess: minutesBefore(3),
    ...overrides,
  });

describe("live queue", () => {
  test.each([
    ["running", "running"],
    ["queued", "queued"],
    ["pending-approval", "waiting for approval"],
  ] as const)("a %s task carries the badge %j", (status, badge) => {
    expect(queueItem(task({ status }), NOW).badge).toBe(badge);
  });

  test.each([
    [{ backend: "claude", start: "warm" }, "claude · warm start"],
    [{ backend: "codex", start: "cold" }, "codex · cold start"],
    [{ backend: "ollama", start: null }, "ollama"],
    [{ backend: null }, "backend not chosen yet"],
  ] as const)("the backend line for %j reads %j", (fields, text) => {
    expect(queueItem(task(fields), NOW).backendText).toBe(text);
  });

  test("names the workspace the task works in, and nothing for the hub's data folder", () => {
    expect(queueItem(task({ workspace: "site" }), NOW).workspaceText).toBe("workspace site");
    expect(queueItem(task({ workspace: null }), NOW).workspaceText).toBe("");
    expect(queueItem(task(), NOW).workspaceText).toBe("");
  });

  test("names the channel the task came from", () => {
    expect(queueItem(task({ startedFrom: "telegram" }), NOW).channelText).toBe("from telegram");
  });
});

describe("waiting for you", () => {
  test("shows what is to be approved from awaitingApproval", () => {
    const item = approvalItem(
      task({
        status: "pending-approval",
        awaitingApproval: { step: 1, title: "Apply the rename", detail: "git mv payments billing" },
      }),
    );
    expect(item).toMatchObject({ whatTitle: "Apply the rename", whatDetail: "git mv payments billing" });
  });

  test("carries the step it shows waiting, which the buttons send with the decision", () => {
    const waiting = { step: 3, title: "Push", detail: "git push" };
    expect(approvalItem(task({ status: "pending-approval", awaitingApproval: waiting })).step).toBe(3);
    expect(approvalItem(task({ status: "pending-approval", currentStep: 2, awaitingApproval: null })).step).toBe(2);
  });

  const toolWait = (tool: string, detail: string) => ({
    kind: "tool" as const,
    id: "tool_0123456789ab",
    step: 1,
    title: `${tool} notes.txt`,
    detail,
    tool,
    summary: `${tool} notes.txt`,
  });
  const DIFF = "--- notes.txt\n+++ notes.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n";

  test.each([
    ["an Edit's diff", toolWait("Edit", DIFF), "diff"],
    ["a MultiEdit's diff", toolWait("MultiEdit", DIFF), "diff"],
    ["a Write's diff", toolWait("Write", "--- new.txt\n+++ new.txt\n@@ -0,0 +1 @@\n+hello\n"), "diff"],
    ["an Edit the hub could not diff (its input as JSON)", toolWait("Edit", '{\n  "file_path": "x"\n}'), "text"],
    ["a Bash command", toolWait("Bash", "npm test"), "command"],
    ["another tool's input", toolWait("WebFetch", '{"url": "https://example.com"}'), "text"],
    ["a step's prompt", { step: 1, title: "Push", detail: "--- not a diff" }, "text"],
  ])("shows %s as %s", (_what, waiting, kind) => {
    expect(approvalItem(task({ status: "pending-approval", awaitingApproval: waiting })).detailKind).toBe(kind);
  });

  test("carries a tool call's approval id, which the buttons send so a stale card cannot decide a later call", () => {
    const tool = {
      kind: "tool" as const,
      id: "tool_0123456789ab",
      step: 1,
      title: "Bash: npm test",
      detail: "npm test",
      tool: "Bash",
      summary: "Bash: npm test",
    };
    const item = approvalItem(task({ status: "pending-approval", awaitingApproval: tool }));
    expect(item).toMatchObject({
      approvalId: "tool_0123456789ab",
      whatTitle: "Bash: npm test",
      whatDetail: "npm test",
    });
    const stepWait = { step: 3, title: "Push", detail: "git push" };
    expect(approvalItem(task({ status: "pending-approval", awaitingApproval: stepWait })).approvalId).toBeNull();
  });

  test("falls back to the plan step awaitingApproval names, counting steps from 1 as the router does", () => {
    const plan = {
      steps: [
        { title: "Plan", prompt: "list the changes" },
        { title: "Push to main", prompt: "git push origin main" },
      ],
    };
    const second = approvalItem(
      task({ status: "pending-approval", plan, awaitingApproval: { step: 2, title: "", detail: "" } }),
    );
    expect(second).toMatchObject({ step: 2, whatTitle: "Push to main", whatDetail: "git push origin main" });
    const first = approvalItem(
      task({ status: "pending-approval", plan, awaitingApproval: { step: 1, title: "", detail: "" } }),
    );
    expect(first).toMatchObject({ step: 1, whatTitle: "Plan", whatDetail: "list the changes" });
  });

  test("without awaitingApproval, shows the current step of the plan (1-based)", () => {
    const item = approvalItem(
      task({
        status: "pending-approval",
        currentStep: 2,
        totalSteps: 2,
        plan: { steps: [{ title: "Plan" }, { title: "Push to main", prompt: "git push origin main" }] },
        awaitingApproval: null,
      }),
    );
    expect(item).toMatchObject({ step: 2, whatTitle: "Push to main", whatDetail: "git push origin main" });
  });

  test("only pending-approval tasks wait for the person", () => {
    const context: Context = {
      lastUpdated: NOW.toISOString(),
      activeTasks: [
        task({ taskId: "a" }),
        task({ taskId: "b", status: "pending-approval" }),
        task({ taskId: "c", status: "queued" }),
      ],
      recentCompleted: [],
      channelHistory: {},
    };
    expect(dashboardView(context, null, NOW).approvals.map((item) => item.taskId)).toEqual(["b"]);
    expect(dashboardView(context, null, NOW).queue.map((item) => item.taskId)).toEqual(["a", "b", "c"]);
  });
});

describe("recently finished", () => {
  test("a completed task shows its output path and when it finished", () => {
    const item = finishedItem(
      task({ status: "complete", outputPath: "artifacts/report.md", completedAt: minutesBefore(3) }),
      NOW,
    );
    expect(item).toMatchObject({ detailText: "output: artifacts/report.md", whenText: "finished 3 minutes ago" });
  });

  test("a failed task shows its error", () => {
    const item = finishedItem(
      task({ status: "failed", error: "deploy key refused", completedAt: minutesBefore(120) }),
      NOW,
    );
    expect(item).toMatchObject({
      detailText: "error: deploy key refused",
      whenText: "failed 2 hours ago",
      badge: "failed",
    });
  });

  test(`shows at most the last ${RECENT_SHOWN}, newest first as the document holds them`, () => {
    const recentCompleted = Array.from({ length: 12 }, (_, i) => task({ taskId: `t${i}`, status: "complete" }));
    const context: Context = { lastUpdated: NOW.toISOString(), activeTasks: [], recentCompleted, channelHistory: {} };
    expect(dashboardView(context, null, NOW).finished.map((item) => item.taskId)).toEqual(
      recentCompleted.slice(0, RECENT_SHOWN).map((t) => t.taskId),
    );
  });
});

describe("backends", () => {
  test("a healthy backend shows when it was pinged, its version and latency, and no reason", () => {
    expect(backendItem("claude", backend(), NOW)).toMatchObject({
      statusLabel: "healthy",
      pingedText: "pinged 3 minutes ago",
      versionText: "2.1.4",
      latencyText: "413 ms",
      reasonText: null,
    });
  });

  test("a dead backend shows its reason", () => {
    const item = backendItem("claude", backend({ status: "dead", reason: "not installed" }), NOW);
    expect(item).toMatchObject({ statusLabel: "dead", reasonText: "not installed" });
  });

  test("a backend never pinged says so", () => {
    expect(backendItem("x", backend({ lastPing: null, status: "cold" }), NOW).pingedText).toBe("never pinged");
  });

  test("counts the ready pre-warmed sessions", () => {
    const session = { startedAt: minutesBefore(2), readyAt: null, expiresAt: null, pid: null };
    const item = backendItem(
      "claude",
      backend({
        prewarmed: [
          { id: "a", state: "ready", ...session },
          { id: "b", state: "starting", ...session },
        ],
      }),
      NOW,
    );
    expect(item.prewarmedText).toBe("1 of 2 pre-warmed sessions ready");
  });

  test("backends are listed by name", () => {
    const health = {
      lastUpdated: NOW.toISOString(),
      backends: { ollama: backend(), claude: backend(), codex: backend() },
    };
    expect(dashboardView(null, health, NOW).backends.map((item) => item.name)).toEqual(["claude", "codex", "ollama"]);
  });
});

describe("channels", () => {
  test("each channel shows when it was last active and its last task, most recent first", () => {
    const context: Context = {
      lastUpdated: NOW.toISOString(),
      activeTasks: [task({ taskId: "route_a", description: "Analyze trust documents" })],
      recentCompleted: [],
      channelHistory: {
        voice: { lastActive: minutesBefore(30), lastTaskId: "route_a" },
        slack: { lastActive: minutesBefore(2), lastTaskId: "route_gone" },
        cli: { lastActive: minutesBefore(90), lastTaskId: null },
      },
    };
    expect(dashboardView(context, null, NOW).channels).toEqual([
      { channel: "slack", activeText: "active 2 minutes ago", lastTaskText: "last task: route_gone" },
      { channel: "voice", activeText: "active 30 minutes ago", lastTaskText: "last task: Analyze trust documents" },
      { channel: "cli", activeText: "active 2 hours ago", lastTaskText: "no task yet" },
    ]);
  });
});

describe("relative times", () => {
  test.each([
    [0, "just now"],
    [0.5, "just now"],
    [1, "1 minute ago"],
    [3, "3 minutes ago"],
    [59, "59 minutes ago"],
    [60, "1 hour ago"],
    [150, "3 hours ago"],
    [60 * 72, "3 days ago"],
    [-5, "just now"],
  ])("%d minutes before now reads %j", (minutes, text) => {
    expect(ago(minutesBefore(minutes), NOW)).toBe(text);
  });
});

describe("latency chart", () => {
  test("draws nothing for fewer than two pings", () => {
    expect(sparklinePoints([120], 120, 28)).toBe("");
  });

  test("spans the width, with the slowest ping at the top", () => {
    const points = sparklinePoints([100, 400, 200], 120, 28)
      .split(" ")
      .map((p) => p.split(",").map(Number));
    expect(points.map(([x]) => x)).toEqual([0, 60, 120]);
    const ys = points.map(([, y]) => y as number);
    expect(Math.min(...ys)).toBe(ys[1]);
    expect(ys.every((y) => y >= 0 && y <= 28)).toBe(true);
  });
});

describe("diffLines", () => {
  test("marks each line of a unified diff: file headers, hunk header, removed, added, unchanged", () => {
    expect(diffLines("--- notes.txt\n+++ notes.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n")).toEqual([
      { kind: "file", text: "--- notes.txt" },
      { kind: "file", text: "+++ notes.txt" },
      { kind: "hunk", text: "@@ -1,3 +1,3 @@" },
      { kind: "context", text: " one" },
      { kind: "remove", text: "-two" },
      { kind: "add", text: "+TWO" },
      { kind: "context", text: " three" },
    ]);
  });

  test("keeps jsdiff's no-newline marker and the hub's cut note as notes, and a removed '--' line as removed", () => {
    expect(
      diffLines("@@ -1 +1 @@\n---x\n+--x\n\\ No newline at end of file\n… (1200 more characters not shown)"),
    ).toEqual([
      { kind: "hunk", text: "@@ -1 +1 @@" },
      { kind: "remove", text: "---x" },
      { kind: "add", text: "+--x" },
      { kind: "note", text: "\\ No newline at end of file" },
      { kind: "note", text: "… (1200 more characters not shown)" },
    ]);
  });
});

describe("the New task form's workspaces", () => {
  const summary = (name: string, extra: Partial<WorkspaceSummary> = {}): WorkspaceSummary => ({
    name,
    description: null,
    default: false,
    backends: ["claude"],
    claude: { permissionMode: null, approveTools: "ask" },
    codex: { sandbox: null },
    ...extra,
  });

  test("offers every configured workspace by name and description, the default preselected", () => {
    const list = {
      default: "docs",
      workspaces: [summary("site", { description: "The web site" }), summary("docs", { default: true })],
    };
    expect(workspaceChoices(list)).toEqual({
      options: [
        { value: "site", label: "site — The web site" },
        { value: "docs", label: "docs (default)" },
      ],
      selected: "docs",
    });
  });

  test("without a default, a first choice names none: the task runs in the hub's data folder", () => {
    expect(workspaceChoices({ default: null, workspaces: [summary("site")] })).toEqual({
      options: [
        { value: "", label: "none (the hub's data folder)" },
        { value: "site", label: "site" },
      ],
      selected: "",
    });
  });

  test("offers nothing (the choice is hidden) when none is configured or the list is not known yet", () => {
    expect(workspaceChoices({ default: null, workspaces: [] })).toEqual({ options: [], selected: "" });
    expect(workspaceChoices(null)).toEqual({ options: [], selected: "" });
  });

  test("the route request carries the chosen workspace, and leaves a blank one out", () => {
    expect(newTaskRequest({ description: " fix it ", workspace: "site" })).toEqual({
      description: "fix it",
      workspace: "site",
    });
    expect(newTaskRequest({ description: "fix it", workspace: "", backend: "" })).toEqual({ description: "fix it" });
  });
});
