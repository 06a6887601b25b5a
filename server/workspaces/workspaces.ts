// The configured workspaces at run time: which folder a task runs in (a request names a workspace,
// never a path), the start-up check of every folder, and the public list `GET /api/workspaces` serves.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { WorkspaceList, WorkspaceSummary } from "../../shared/schemas.ts";
import type { BackendSettings } from "../backends/settings.ts";
import { invalidInput } from "../errors.ts";
import { claudeWorkspaceSchema, type ResolvedWorkspace, type WorkspaceSettings } from "./settings.ts";

/** The folder tasks run in when neither the request nor `router.defaultWorkspace` names a workspace. */
export const dataWorkspacePath = (dataDir: string): string => join(dataDir, "workspace");

export interface WorkspacesOptions {
  workspaces: Record<string, WorkspaceSettings>;
  defaultWorkspace?: string | undefined;
  dataDir: string;
  backends?: Record<string, BackendSettings>;
}

export type Workspaces = ReturnType<typeof createWorkspaces>;

export function createWorkspaces(options: WorkspacesOptions) {
  const { workspaces } = options;
  const names = Object.keys(workspaces);
  const defaultName = options.defaultWorkspace ?? null;
  const dataFolder: ResolvedWorkspace = {
    name: null,
    path: dataWorkspacePath(options.dataDir),
    claude: claudeWorkspaceSchema.parse({}),
    codex: {},
  };

  const configuredList = () => (names.length > 0 ? `configured: ${names.join(", ")}` : "none is configured");

  /**
   * The workspace a task runs in. `requested` is a name from a request: a path, or a name not
   * configured, is refused (400) with the configured names.
   */
  function resolveWorkspace(requested?: string | null): ResolvedWorkspace {
    const name = requested ?? defaultName;
    if (name === null) return dataFolder;
    const settings = Object.hasOwn(workspaces, name) ? workspaces[name] : undefined;
    if (!settings) {
      const what = /[/\\.~]/.test(name)
        ? `${JSON.stringify(name.slice(0, 100))} looks like a path; a request names a workspace, never a folder`
        : `there is no workspace named ${JSON.stringify(name.slice(0, 100))}`;
      throw invalidInput(`workspace: ${what} (${configuredList()}; see GET /api/workspaces)`);
    }
    return { name, path: settings.path, claude: settings.claude, codex: settings.codex };
  }

  function listWorkspaces(): WorkspaceList {
    const fileBackends = Object.entries(options.backends ?? {})
      .filter(([, b]) => b.enabled && (b.kind === "claude" || b.kind === "codex"))
      .map(([name]) => name);
    return {
      default: defaultName,
      workspaces: names.map((name) => {
        const w = workspaces[name] as WorkspaceSettings;
        const summary: WorkspaceSummary = {
          name,
          description: w.description ?? null,
          default: name === defaultName,
          backends: fileBackends,
          claude: { permissionMode: w.claude.permissionMode ?? null, approveTools: w.claude.approveTools },
          codex: { sandbox: w.codex.sandbox ?? null },
        };
        return summary;
      }),
    };
  }

  return { resolveWorkspace, listWorkspaces, names, dataFolder };
}

/**
 * Checks every workspace folder (and every extra Claude folder) exists and is a directory.
 * Resolves with the first problem as one person-facing line, or null.
 */
export async function checkWorkspaceFolders(workspaces: Record<string, WorkspaceSettings>): Promise<string | null> {
  for (const [name, w] of Object.entries(workspaces)) {
    const folders: [string, string][] = [
      [`workspaces.${name}.path`, w.path],
      ...(w.claude.addDirs ?? []).map((d, i): [string, string] => [`workspaces.${name}.claude.addDirs.${i}`, d]),
    ];
    for (const [key, path] of folders) {
      let problem: string | null = null;
      try {
        if (!(await stat(path)).isDirectory()) problem = "is not a directory";
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        problem = code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? (error as Error).message})`;
      }
      if (problem) return `config.json: ${key} ${path} ${problem}; create the folder or fix the path`;
    }
  }
  return null;
}
