import { describe, expect, it } from "vitest";
import { queueItem } from "../../client/dashboard/view-model.ts";
import { BLOCK_TEXT_LIMIT, escapeText, progressBar, renderTask as slackTask } from "../../client/slack/blocks.ts";
import {
  approvalDigest,
  parseButtonData,
  TEXT_LIMIT,
  renderTask as telegramTask,
} from "../../client/telegram/message.ts";
import { applyUpdate, buildTask, finishTask } from "../../server/task-transitions.ts";
import type { Task } from "../../shared/schemas.ts";

const T0 = Date.parse("2026-01-01T09:00:00.000Z");
const NOW = new Date(T0 + 60_000);

function task(overrides: Record<string, unknown> = {}, id = "route_abc"): Task {
  const base = buildTask({ description: "Analyze trust documents", startedFrom: "voice", totalSteps: 4 }, id, T0);
  return Object.keys(overrides).length > 0 ? applyUpdate(base, overrides, T0 + 30_000) : base;
}

/** A task in a configured workspace, in the hub's data folder (null), or one that never said (none). */
const inWorkspace = (t: Task, workspace?: string | null): Task => (workspace === undefined ? t : { ...t, workspace });

const workspaceRows: [string, Task, string | null][] = [
  ["running in workspace site", inWorkspace(task({ currentStep: 2, lastUpdate: "reading" }), "site"), "workspace site"],
  [
    "finished in workspace site",
    inWorkspace(finishTask(task(), { outputPath: "out.md" }, T0), "site"),
    "workspace site",
  ],
  ["in the hub's data folder", inWorkspace(task(), null), null],
  ["with no workspace field", task(), null],
];

const pending = (id?: string) =>
  task(
    {
      status: "pending-approval",
      currentStep: 2,
      awaitingApproval: { step: 2, title: "Push to production", detail: "git push origin main" },
    },
    id,
  );

describe("Telegram task message", () => {
  it.each([
    ["running", task({ currentStep: 2, lastUpdate: "reading" }), "▶️", null],
    ["queued", task({ status: "queued" }), "⏳", null],
    ["pending approval", pending(), "✋", ["approve:2", "reject:2"]],
    ["complete", finishTask(task(), { outputPath: "artifacts/trust.md" }, T0), "✅", null],
    ["failed", finishTask(task(), { error: "timed out" }, T0), "❌", null],
  ])("%s: icon, sentence, id, and buttons only while waiting", (_, t, icon, buttons) => {
    const view = telegramTask(t, NOW);
    expect(view.text.startsWith(`${icon} Analyze trust documents\n`)).toBe(true);
    expect(view.text.endsWith("\nid: route_abc")).toBe(true);
    expect(view.buttons?.map((b) => b.data) ?? null).toEqual(buttons);
  });

  it.each(workspaceRows)("%s: a line names the workspace in the dashboard's words, or none", (_, t, line) => {
    const lines = telegramTask(t, NOW).text.split("\n");
    if (line === null) {
      expect(lines.some((l) => l.includes("workspace"))).toBe(false);
    } else {
      expect(line).toBe(queueItem(t, NOW).workspaceText);
      expect(lines).toContain(line);
      expect(lines.at(-1)).toBe("id: route_abc");
    }
  });

  it("buttons never carry the task (the adapter acts on the task of the message), however short its id", () => {
    for (const button of telegramTask(pending("t1"), NOW).buttons ?? []) expect(button.data).not.toContain("t1");
  });

  const toolCall = (approvalId: string, detail = "npm test && rm -rf build", tool = "Bash") =>
    task({
      status: "pending-approval",
      currentStep: 2,
      awaitingApproval: { kind: "tool", id: approvalId, step: 2, tool, title: `${tool}: …`, detail },
    });

  it("a tool call's buttons name its step and approvalId; one too long for 64 bytes goes as a digest", () => {
    expect(telegramTask(toolCall("tool_abc123"), NOW).buttons?.map((b) => b.data)).toEqual([
      "approve:2:tool_abc123",
      "reject:2:tool_abc123",
    ]);
    const longId = `tool_${"x".repeat(70)}`;
    const data = telegramTask(toolCall(longId), NOW).buttons?.map((b) => b.data) ?? [];
    expect(data).toEqual([`approve:2:#${approvalDigest(longId)}`, `reject:2:#${approvalDigest(longId)}`]);
    for (const d of data) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(64);
  });

  it.each([
    ["approve:2", { action: "approve", step: 2, approval: null }],
    ["reject:3:tool_abc", { action: "reject", step: 3, approval: { id: "tool_abc" } }],
    ["approve:1:#abcdefghijklmnop", { action: "approve", step: 1, approval: { digest: "abcdefghijklmnop" } }],
    ["approve:route_abc", null],
    ["approve", null],
    ["approve:2:tool abc", null],
    ["delete:2", null],
  ])("reads callback data %j", (data, expected) => {
    expect(parseButtonData(data)).toEqual(expected);
  });

  it("shows a tool call's command as a code block: a pre entity over exactly the command", () => {
    const view = telegramTask(toolCall("tool_abc", "npm test && rm -rf <build>"), NOW);
    const [entity] = view.entities ?? [];
    expect(entity).toMatchObject({ type: "pre", language: "bash" });
    expect(view.text.slice(entity?.offset, (entity?.offset ?? 0) + (entity?.length ?? 0))).toBe(
      "npm test && rm -rf <build>",
    );
    expect(telegramTask(toolCall("tool_abc", "--- a\n+++ b", "Edit"), NOW).entities?.[0]?.language).toBe("diff");
    // A step's prompt is prose: no code block.
    expect(telegramTask(pending(), NOW).entities).toBeUndefined();
    expect(telegramTask(pending(), NOW).text).toContain("git push origin main");
  });

  it("never cuts an approval's text silently: a diff longer than a message is cut at a line, within 4096 characters, with where to read it whole", () => {
    const line = "+ const total = items.reduce((sum, item) => sum + item.price, 0); // 🧾\n";
    const detail = line.repeat(100);
    const view = telegramTask(toolCall("tool_abc", detail, "Write"), NOW, null, { dashboardUrl: "http://hub.lan/" });
    expect(view.text.length).toBeLessThanOrEqual(TEXT_LIMIT);
    expect(view.text.endsWith("\nid: route_abc")).toBe(true);
    const [entity] = view.entities ?? [];
    const shown = view.text.slice(entity?.offset, (entity?.offset ?? 0) + (entity?.length ?? 0));
    expect(shown.endsWith("// 🧾…")).toBe(true);
    expect(detail.startsWith(shown.slice(0, -1))).toBe(true);
    expect(view.text).toContain(
      `Cut: this shows the first ${(shown.length - 1).toLocaleString("en-US")} of ${detail.length.toLocaleString("en-US")} characters. Read it whole on the dashboard, http://hub.lan/, under Waiting for you, before you decide.`,
    );
    // The same for a step's prompt, which was shown only in its first 500 characters before.
    const prompt = "Summarise every contract. ".repeat(300);
    const stepView = telegramTask(
      task({
        status: "pending-approval",
        currentStep: 2,
        awaitingApproval: { step: 2, title: "Summarise", detail: prompt },
      }),
      NOW,
    );
    expect(stepView.text.length).toBeLessThanOrEqual(TEXT_LIMIT);
    expect(stepView.text.length).toBeGreaterThan(3000);
    expect(stepView.text).toContain("of 7,800 characters. Read it whole on the dashboard, under Waiting for you");
  });

  it("never exceeds Telegram's 4096 characters, and keeps the id line", () => {
    const huge = finishTask(task({ lastUpdate: "y".repeat(2000) }), { error: "e".repeat(4000) }, T0);
    const view = telegramTask({ ...huge, description: "d".repeat(2000) }, NOW);
    expect(view.text.length).toBeLessThanOrEqual(TEXT_LIMIT);
    expect(view.text.endsWith("\nid: route_abc")).toBe(true);
  });
});

describe("Slack approval text", () => {
  const waitingOn = (detail: string, kind: "step" | "tool" = "tool") =>
    task({
      status: "pending-approval",
      currentStep: 2,
      awaitingApproval: { kind, id: "tool_abc", step: 2, title: "Edit src/app.ts", detail },
    });
  const texts = (view: ReturnType<typeof slackTask>) =>
    view.blocks.flatMap((b) => [
      (b as { text?: { text: string } }).text?.text ?? "",
      ...((b as { elements?: { text?: string }[] }).elements ?? []).map((e) => e.text ?? ""),
    ]);

  it("shows a short diff whole in a code block, with no notice", () => {
    const view = slackTask(waitingOn("--- a\n+++ b\n-old\n+new"), NOW, null, { dashboardUrl: "http://hub.lan/" });
    expect(texts(view)).toContain("```--- a\n+++ b\n-old\n+new```");
    expect(JSON.stringify(view.blocks)).not.toContain("Cut:");
  });

  it("cuts a diff longer than a block at a line end, within 3000 characters even when escaping grows it, and says where to read it whole", () => {
    const line = "+ if (a < b && c > d) return;\n";
    const detail = line.repeat(400);
    const view = slackTask(waitingOn(detail), NOW, null, { dashboardUrl: "http://hub.lan/" });
    const code = texts(view).find((t) => t.startsWith("```")) as string;
    expect(code.length).toBeLessThanOrEqual(BLOCK_TEXT_LIMIT);
    expect(code.endsWith("return;…```")).toBe(true);
    const shown = code.slice(3, -4).split("\n").length;
    expect(JSON.stringify(view.blocks)).toContain(
      `Cut: this shows the first ${(shown * line.length - 1).toLocaleString("en-US")} of 12,000 characters. Read it whole on the dashboard, http://hub.lan/, under Waiting for you, before you decide.`,
    );
  });
});

describe("Slack task message", () => {
  it("shows a progress bar and the step while running, and no buttons", () => {
    const view = slackTask(task({ currentStep: 3, lastUpdate: "reading" }), NOW);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain(progressBar(50));
    expect(text).toContain("step 3 of 4 — reading");
    expect(view.blocks.some((b) => b.type === "actions")).toBe(false);
  });

  it.each(workspaceRows)("%s: the details name the workspace in the dashboard's words, or none", (_, t, part) => {
    const context = slackTask(t, NOW).blocks.find((b) => b.type === "context") as { elements: { text: string }[] };
    const parts = context.elements.flatMap((e) => e.text.split("  ·  "));
    if (part === null) {
      expect(parts.some((p) => p.includes("workspace"))).toBe(false);
    } else {
      expect(part).toBe(queueItem(t, NOW).workspaceText);
      expect(parts).toContain(part);
    }
  });

  it("escapes Slack markup in task text, so it shows as written", () => {
    const view = slackTask({ ...task(), description: "Compare <a> & <b>" }, NOW);
    expect(JSON.stringify(view.blocks)).toContain("Compare &lt;a&gt; &amp; &lt;b&gt;");
    expect(escapeText("<!channel>")).toBe("&lt;!channel&gt;");
  });

  it("keeps every block text within Slack's 3000 characters, even for a 4000-character error", () => {
    const failed = finishTask({ ...task(), description: "d".repeat(2000) }, { error: "e".repeat(4000) }, T0);
    for (const block of slackTask(failed, NOW).blocks) {
      const texts = [
        (block as { text?: { text: string } }).text?.text,
        ...((block as { elements?: { text?: string }[] }).elements ?? []).map((e) => e.text),
      ];
      for (const text of texts) if (text !== undefined) expect(text.length).toBeLessThanOrEqual(BLOCK_TEXT_LIMIT);
    }
  });

  it.each([
    [0, "▱▱▱▱▱▱▱▱▱▱ 0%"],
    [34, "▰▰▰▱▱▱▱▱▱▱ 34%"],
    [100, "▰▰▰▰▰▰▰▰▰▰ 100%"],
  ])("progress bar at %i%%", (done, bar) => {
    expect(progressBar(done)).toBe(bar);
  });
});
