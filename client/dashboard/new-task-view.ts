// The New task form, decided as data: which backends and workspaces it offers, and the route
// request its fields make. The form itself is drawn by task-cards.ts.
import type { Health, WorkspaceList } from "../../shared/schemas.ts";
import { workspaceLabel } from "../workspace-view.ts";

/** A backend the New task form offers. */
export interface BackendChoice {
  name: string;
  label: string;
}

/** The fields of the New task form, as the browser's FormData gives them. */
export type NewTaskFields = Record<string, string>;

/** What the dashboard asks the router for: the description and any choice the person made. */
export interface NewTaskRequest {
  description: string;
  backend?: string;
  workspace?: string;
}

/** The New task form's workspace choice: no options (nothing configured, the choice is hidden), or the configured ones. */
export interface WorkspaceChoices {
  options: { value: string; label: string }[];
  /** Preselected: the default workspace, or "" (none) when there is no default. */
  selected: string;
}

/**
 * The route request a New task form asks for. Blank choices are left out (the router decides);
 * a choice the route does not take is ignored, so a new field in the form needs one line here.
 */
export function newTaskRequest(fields: NewTaskFields): NewTaskRequest {
  const request: NewTaskRequest = { description: (fields.description ?? "").trim() };
  const backend = fields.backend?.trim();
  if (backend) request.backend = backend;
  const workspace = fields.workspace?.trim();
  if (workspace) request.workspace = workspace;
  return request;
}

/**
 * The workspaces the New task form offers (`GET /api/workspaces`), the default preselected.
 * Without a default, a first choice leaves the workspace out: the task runs in the hub's data
 * folder (a request can name only a configured workspace, so that folder has no name to send).
 */
export function workspaceChoices(list: WorkspaceList | null): WorkspaceChoices {
  if (!list || list.workspaces.length === 0) return { options: [], selected: "" };
  const options = list.workspaces.map((workspace) => ({ value: workspace.name, label: workspaceLabel(workspace) }));
  if (list.default !== null) return { options, selected: list.default };
  return { options: [{ value: "", label: "none (the hub's data folder)" }, ...options], selected: "" };
}

/** Every configured backend, with a word on its state; a dead one says so but can still be asked for. */
export function backendChoices(health: Health | null): BackendChoice[] {
  return Object.entries(health?.backends ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, entry]) => ({ name, label: `${name} (${entry.status})` }));
}
