// Pure decisions about one tool call: the workspace's answer by tool name, and what a person is
// shown — the Bash command, a unified diff of an Edit, MultiEdit or Write, or the input, bounded.
import { describe, expect, it } from "vitest";
import { bounded, describeToolCall, toolDecision } from "../../server/tool-approvals/tool-call.ts";
import { LIMITS } from "../../shared/schemas.ts";

const rules = (r: Partial<Parameters<typeof toolDecision>[0]> = {}) => ({
  approveTools: "ask" as const,
  alwaysAllow: [],
  alwaysAsk: [],
  alwaysDeny: [],
  ...r,
});

describe("toolDecision", () => {
  it.each([
    ["nothing listed: approveTools decides", rules(), "Bash", "ask"],
    ["approveTools allow", rules({ approveTools: "allow" }), "Bash", "allow"],
    ["approveTools deny", rules({ approveTools: "deny" }), "Write", "deny"],
    ["alwaysAllow names it", rules({ alwaysAllow: ["Read", "Grep"] }), "Grep", "allow"],
    ["alwaysAllow names another", rules({ alwaysAllow: ["Read"] }), "Bash", "ask"],
    [
      "alwaysAsk beats approveTools allow",
      rules({ approveTools: "allow", alwaysAsk: ["Bash", "Write"] }),
      "Write",
      "ask",
    ],
    ["alwaysDeny beats alwaysAllow", rules({ alwaysAllow: ["Bash"], alwaysDeny: ["Bash"] }), "Bash", "deny"],
    ["a trailing * matches a prefix", rules({ alwaysAllow: ["mcp__github__*"] }), "mcp__github__create_issue", "allow"],
    ["a prefix rule does not match others", rules({ alwaysAllow: ["mcp__github__*"] }), "mcp__slack__post", "ask"],
    ["names are exact (case matters)", rules({ alwaysAllow: ["bash"] }), "Bash", "ask"],
  ] as const)("%s", (_what, r, tool, expected) => {
    expect(toolDecision(r, tool)).toBe(expected);
  });
});

const describe_ = (tool: string, input: Record<string, unknown>, fileBefore: string | null = null) =>
  describeToolCall({ tool, input, fileBefore, workspacePath: "/srv/site" });

describe("describeToolCall", () => {
  it("shows a Bash call's command, its first line as the summary", () => {
    expect(describe_("Bash", { command: "npm test\nnpm run lint", description: "Run the checks" })).toEqual({
      summary: "Bash: npm test",
      detail: "npm test\nnpm run lint",
    });
  });

  it("shows an Edit as a unified diff of the file, named relative to the workspace", () => {
    const view = describe_(
      "Edit",
      { file_path: "/srv/site/src/a.ts", old_string: "let x = 1;", new_string: "const x = 1;" },
      "// a\nlet x = 1;\nexport { x };\n",
    );
    expect(view.summary).toBe("Edit src/a.ts");
    expect(view.detail).toBe(
      "--- src/a.ts\n+++ src/a.ts\n@@ -1,3 +1,3 @@\n // a\n-let x = 1;\n+const x = 1;\n export { x };\n",
    );
  });

  it("replaces every occurrence when replace_all is set", () => {
    const view = describe_(
      "Edit",
      { file_path: "/srv/site/t", old_string: "a", new_string: "b", replace_all: true },
      "a\na\n",
    );
    expect(view.detail).toBe("--- t\n+++ t\n@@ -1,2 +1,2 @@\n-a\n-a\n+b\n+b\n");
  });

  it("applies a MultiEdit's edits in order", () => {
    const view = describe_(
      "MultiEdit",
      {
        file_path: "/srv/site/t",
        edits: [
          { old_string: "one", new_string: "uno" },
          { old_string: "uno two", new_string: "uno dos" },
        ],
      },
      "one two\n",
    );
    expect(view.detail).toBe("--- t\n+++ t\n@@ -1,1 +1,1 @@\n-one two\n+uno dos\n");
  });

  it("diffs an Edit's own text when the hub could not see the file", () => {
    const view = describe_("Edit", { file_path: "/etc/hosts", old_string: "a\n", new_string: "b\n" });
    expect(view).toEqual({
      summary: "Edit /etc/hosts",
      detail: "--- /etc/hosts\n+++ /etc/hosts\n@@ -1,1 +1,1 @@\n-a\n+b\n",
    });
  });

  it("shows a Write of a new file as all additions, and of an existing file as a diff", () => {
    expect(describe_("Write", { file_path: "/srv/site/new.md", content: "# Hi\n" })).toEqual({
      summary: "Write (new file) new.md",
      detail: "--- new.md\n+++ new.md\n@@ -0,0 +1,1 @@\n+# Hi\n",
    });
    expect(describe_("Write", { file_path: "/srv/site/old.md", content: "b\n" }, "a\n").detail).toBe(
      "--- old.md\n+++ old.md\n@@ -1,1 +1,1 @@\n-a\n+b\n",
    );
  });

  it("shows any other tool's input as JSON, on one line in the summary", () => {
    const view = describe_("WebFetch", { url: "https://example.com", prompt: "summarise" });
    expect(view.summary).toBe('WebFetch: { "url": "https://example.com", "prompt": "summarise" }');
    expect(JSON.parse(view.detail)).toEqual({ url: "https://example.com", prompt: "summarise" });
  });

  it("falls back to the input when an edit is not the shape Claude sends", () => {
    expect(describe_("Edit", { file_path: "/srv/site/a", old_string: 1 }).detail).toBe(
      JSON.stringify({ file_path: "/srv/site/a", old_string: 1 }, null, 2),
    );
  });

  it("bounds the detail and the summary, saying how much was left out", () => {
    const command = `echo ${"x".repeat(50_000)}`;
    const view = describe_("Bash", { command });
    expect(view.detail.length).toBeLessThanOrEqual(LIMITS.prompt);
    expect(view.detail).toMatch(/… \(\d+ more characters not shown\)$/);
    expect(view.summary.length).toBeLessThanOrEqual(LIMITS.title);
    expect(bounded("short")).toBe("short");
  });
});
