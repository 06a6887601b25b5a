// Each workspace option reaches the CLI's argv: claude's flags spelled as its own SDK spells them,
// codex's `-C`, `--sandbox` and `--skip-git-repo-check`; pure functions, tested with tables.
import { describe, expect, it } from "vitest";
import { workspaceArgs as claudeWorkspaceArgs, streamJsonArgs } from "../../server/backends/claude.ts";
import { workspaceArgs as codexWorkspaceArgs, execArgs } from "../../server/backends/codex.ts";
import { backendSettingsSchema } from "../../server/backends/settings.ts";
import { claudeWorkspaceSchema, type ResolvedWorkspace } from "../../server/workspaces/settings.ts";

const claude = (raw: Record<string, unknown>) => claudeWorkspaceSchema.parse(raw);
const settings = (raw: Record<string, unknown>) => backendSettingsSchema.parse(raw);

describe("claude workspace flags", () => {
  it.each([
    [{}, []],
    [{ permissionMode: "acceptEdits" }, ["--permission-mode", "acceptEdits"]],
    [{ permissionMode: "plan" }, ["--permission-mode", "plan"]],
    [
      { permissionMode: "bypassPermissions" },
      ["--permission-mode", "bypassPermissions", "--allow-dangerously-skip-permissions"],
    ],
    [{ allowedTools: ["Read", "Edit", "Bash(git status:*)"] }, ["--allowedTools", "Read,Edit,Bash(git status:*)"]],
    [{ disallowedTools: ["WebFetch"] }, ["--disallowedTools", "WebFetch"]],
    [{ addDirs: ["/srv/a", "/srv/b"] }, ["--add-dir", "/srv/a", "--add-dir", "/srv/b"]],
    [{ maxTurns: 12 }, ["--max-turns", "12"]],
    [{ maxBudgetUsd: 2.5 }, ["--max-budget-usd", "2.5"]],
    [{ allowedTools: [], disallowedTools: [] }, []],
    [{ approveTools: "deny", alwaysAllow: ["Read"], approvalTimeoutMs: 5 }, []],
  ])("%j becomes %j", (raw, flags) => {
    expect(claudeWorkspaceArgs(claude(raw))).toEqual(flags);
  });

  it("puts the workspace flags and the permission prompt after the stream-json flags and the model, before the extra args", () => {
    const args = streamJsonArgs(settings({ kind: "claude", model: "sonnet", args: ["--fallback-model", "haiku"] }), {
      workspace: claude({ permissionMode: "default", maxTurns: 3 }),
      permissionPromptArgs: ["--mcp-config", "/d/a.json", "--permission-prompt-tool", "mcp__switchboard__approve"],
    });
    expect(args).toEqual([
      "-p",
      "--input-format",
      "stream-json",
      "--output-format",
      "stream-json",
      "--verbose",
      "--model",
      "sonnet",
      "--permission-mode",
      "default",
      "--max-turns",
      "3",
      "--mcp-config",
      "/d/a.json",
      "--permission-prompt-tool",
      "mcp__switchboard__approve",
      "--fallback-model",
      "haiku",
    ]);
  });

  it("is the plain stream-json command line without a launch", () => {
    expect(streamJsonArgs(settings({ kind: "claude" }))).toEqual([
      "-p",
      "--input-format",
      "stream-json",
      "--output-format",
      "stream-json",
      "--verbose",
    ]);
  });
});

const workspace = (name: string | null, codex: ResolvedWorkspace["codex"]): ResolvedWorkspace => ({
  name,
  path: "/srv/site",
  claude: claude({}),
  codex,
});

describe("codex workspace flags", () => {
  it.each([
    ["site", {}, ["-C", "/srv/site"]],
    ["site", { sandbox: "workspace-write" }, ["-C", "/srv/site", "--sandbox", "workspace-write"]],
    [
      "site",
      { sandbox: "read-only", skipGitRepoCheck: true },
      ["-C", "/srv/site", "--sandbox", "read-only", "--skip-git-repo-check"],
    ],
    ["site", { skipGitRepoCheck: false }, ["-C", "/srv/site"]],
    // The data directory's folder is no Git repository: codex is told so unless config says otherwise.
    [null, {}, ["-C", "/srv/site", "--skip-git-repo-check"]],
    [null, { skipGitRepoCheck: false }, ["-C", "/srv/site"]],
  ] as const)("workspace %s with %j becomes %j", (name, codex, flags) => {
    expect(codexWorkspaceArgs(workspace(name, codex))).toEqual(flags);
  });

  it("keeps the prompt from stdin (`-`) last, after the workspace, the model and the extra args", () => {
    expect(
      execArgs(settings({ kind: "codex", model: "o3", args: ["--oss"] }), workspace("site", { sandbox: "read-only" })),
    ).toEqual(["exec", "--json", "-C", "/srv/site", "--sandbox", "read-only", "--model", "o3", "--oss", "-"]);
  });
});
