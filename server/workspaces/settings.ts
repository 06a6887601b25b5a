// What config.json says about one workspace: its folder, and how each backend may act in it.
// Shared by the config schema, the backends (argv) and the tool approvals (policy).
import * as z from "zod";

/** Claude Code's `--permission-mode` choices (claude --help, 2.1). */
export const CLAUDE_PERMISSION_MODES = [
  "default",
  "acceptEdits",
  "plan",
  "auto",
  "dontAsk",
  "bypassPermissions",
] as const;
/** Codex's `--sandbox` choices (codex exec --help, 0.171). */
export const CODEX_SANDBOX_MODES = ["read-only", "workspace-write", "danger-full-access"] as const;
/** What the hub answers when Claude asks for a tool its permission mode does not allow by itself. */
export const TOOL_DECISIONS = ["ask", "allow", "deny"] as const;
export type ToolDecision = (typeof TOOL_DECISIONS)[number];

export const WORKSPACE_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 600_000;

const toolNames = z
  .array(
    z
      .string({ error: "must be a list of tool names" })
      .min(1, { error: "must be a list of tool names" })
      .max(200, { error: "must be a list of tool names" }),
    { error: 'must be a list of tool names, e.g. ["Read", "Grep"]' },
  )
  .max(100, { error: "may name at most 100 tools" });

export const claudeWorkspaceSchema = z.strictObject({
  permissionMode: z
    .enum(CLAUDE_PERMISSION_MODES, { error: `must be one of ${CLAUDE_PERMISSION_MODES.join(", ")}` })
    .optional(),
  /** Tools Claude may use without asking (`--allowedTools`), e.g. ["Read", "Edit", "Bash(git status:*)"]. */
  allowedTools: toolNames.optional(),
  /** Tools Claude may never use (`--disallowedTools`). */
  disallowedTools: toolNames.optional(),
  /** More folders Claude may reach (`--add-dir`), absolute or relative to config.json. */
  addDirs: z
    .array(z.string({ error: "must be a list of folders" }).min(1), { error: "must be a list of folders" })
    .optional(),
  maxTurns: z
    .number({ error: "must be a positive integer" })
    .int({ error: "must be a positive integer" })
    .positive({ error: "must be a positive integer" })
    .optional(),
  maxBudgetUsd: z
    .number({ error: "must be a positive number" })
    .positive({ error: "must be a positive number" })
    .optional(),
  /** A tool call the permission mode does not allow by itself: ask a person, allow it, or deny it. */
  approveTools: z.enum(TOOL_DECISIONS, { error: 'must be "ask", "allow" or "deny"' }).default("ask"),
  /** Tool names answered without asking, whatever `approveTools` says ("mcp__github__*" matches a prefix). */
  alwaysAllow: toolNames.default([]),
  alwaysAsk: toolNames.default([]),
  alwaysDeny: toolNames.default([]),
  /** No decision within this long is a deny. */
  approvalTimeoutMs: z
    .number({ error: "must be a positive integer" })
    .int({ error: "must be a positive integer" })
    .positive({ error: "must be a positive integer" })
    .default(DEFAULT_APPROVAL_TIMEOUT_MS),
});
export type ClaudeWorkspace = z.infer<typeof claudeWorkspaceSchema>;

export const codexWorkspaceSchema = z.strictObject({
  sandbox: z.enum(CODEX_SANDBOX_MODES, { error: `must be one of ${CODEX_SANDBOX_MODES.join(", ")}` }).optional(),
  skipGitRepoCheck: z.boolean({ error: "must be true or false" }).optional(),
});
export type CodexWorkspace = z.infer<typeof codexWorkspaceSchema>;

export const workspaceSettingsSchema = z.strictObject({
  /** The folder, absolute or relative to config.json; it must exist when the hub starts. */
  path: z.string({ error: "must be a folder path" }).min(1, { error: "must be a folder path" }),
  description: z.string({ error: "must be a string" }).max(200, { error: "must be at most 200 characters" }).optional(),
  claude: claudeWorkspaceSchema.prefault({}),
  codex: codexWorkspaceSchema.prefault({}),
});
export type WorkspaceSettings = z.infer<typeof workspaceSettingsSchema>;

export const workspacesSchema = z
  .record(
    z.string().regex(WORKSPACE_NAME, { error: "workspace names must be lowercase letters, digits, _ or -" }),
    workspaceSettingsSchema,
    {
      error: (issue) =>
        issue.code === "invalid_key"
          ? "is not a valid workspace name: use lowercase letters, digits, _ or - (at most 40)"
          : 'must be an object of workspaces by name, e.g. {"site": {"path": "../site"}}',
    },
  )
  .default({});

/** Where one task's backend runs: a named workspace, or the data directory's own `workspace` folder. */
export interface ResolvedWorkspace {
  /** The configured name, or null for the data directory's folder. */
  name: string | null;
  /** Absolute path of the folder. */
  path: string;
  claude: ClaudeWorkspace;
  codex: CodexWorkspace;
}
