// The configured workspaces as the channels offer them (`GET /api/workspaces`): a label for a
// choice (the dashboard's New task form) and the listing `switchboard workspaces` prints.
import type { WorkspaceList, WorkspaceSummary } from "../shared/schemas.ts";

/** What happens to a tool call Claude's permission mode does not allow by itself. */
const APPROVE_TOOLS: Record<string, string> = {
  ask: "asks you before other tools",
  allow: "allows other tools",
  deny: "denies other tools",
};

/** "site — The web site (default)": the name first, as a request names it. */
export function workspaceLabel(workspace: WorkspaceSummary): string {
  const description = workspace.description ? ` — ${workspace.description}` : "";
  return `${workspace.name}${description}${workspace.default ? " (default)" : ""}`;
}

/** How each backend may act there, in one line: "claude: acceptEdits, asks you before other tools · codex: workspace-write". */
export function workspacePermissions(workspace: WorkspaceSummary): string {
  const claude = `claude: ${workspace.claude.permissionMode ?? "its own permission mode"}, ${APPROVE_TOOLS[workspace.claude.approveTools] ?? workspace.claude.approveTools}`;
  const codex = `codex: ${workspace.codex.sandbox ?? "its own sandbox"}`;
  return `${claude} · ${codex}`;
}

/** `switchboard workspaces`: one block per workspace, or what a task does without any. */
export function workspacesText(list: WorkspaceList): string {
  if (list.workspaces.length === 0) {
    return "No workspace is configured: tasks run in the hub's data directory (<dataDir>/workspace). Add `workspaces` to config.json to name folders (README, Workspaces).";
  }
  const lines: string[] = [];
  for (const workspace of list.workspaces) {
    lines.push(workspaceLabel(workspace));
    lines.push(`  ${workspacePermissions(workspace)}`);
    lines.push(`  works there: ${workspace.backends.length > 0 ? workspace.backends.join(", ") : "no backend"}`);
  }
  if (list.default === null) lines.push("Without --workspace, a task runs in the hub's data directory.");
  return lines.join("\n");
}
