// Pure decisions about one tool call Claude asks permission for: what the workspace's rules
// answer (ask, allow, deny), and how a person is shown it — the Bash command, a unified diff of
// an Edit/MultiEdit/Write (jsdiff), or the input of any other tool, bounded in size.
import { createPatch } from "diff";
import { EDIT_TOOLS, LIMITS } from "../../shared/schemas.ts";
import type { ClaudeWorkspace, ToolDecision } from "../workspaces/settings.ts";

/** A rule name matches its tool exactly, or every tool starting with it when it ends in `*`. */
const matches = (rule: string, tool: string): boolean =>
  rule.endsWith("*") ? tool.startsWith(rule.slice(0, -1)) : rule === tool;

/** The workspace's answer for a tool: a deny list wins, then allow, then ask, then `approveTools`. */
export function toolDecision(
  rules: Pick<ClaudeWorkspace, "approveTools" | "alwaysAllow" | "alwaysAsk" | "alwaysDeny">,
  tool: string,
): ToolDecision {
  if (rules.alwaysDeny.some((r) => matches(r, tool))) return "deny";
  if (rules.alwaysAllow.some((r) => matches(r, tool))) return "allow";
  if (rules.alwaysAsk.some((r) => matches(r, tool))) return "ask";
  return rules.approveTools;
}

export interface ToolCallView {
  /** One line, e.g. "Bash: npm test", "Edit src/app.ts". */
  summary: string;
  /** The command, the unified diff, or the input as JSON; at most LIMITS.prompt characters. */
  detail: string;
}

export interface ToolCallFacts {
  tool: string;
  input: Record<string, unknown>;
  /** The file the call changes, as it is now, when it lies inside the workspace (null: unknown or new). */
  fileBefore: string | null;
  /** The workspace folder: paths inside it are shown relative to it. */
  workspacePath: string;
}

/** The file a call changes, if it changes one (Edit, MultiEdit, Write; NotebookEdit's notebook). */
export function changedFile(tool: string, input: Record<string, unknown>): string | null {
  const path = EDIT_TOOLS.has(tool) ? input.file_path : tool === "NotebookEdit" ? input.notebook_path : null;
  return typeof path === "string" && path.length > 0 ? path : null;
}

export function describeToolCall(facts: ToolCallFacts): ToolCallView {
  const { tool, input } = facts;
  if (tool === "Bash" && typeof input.command === "string") {
    const first = input.command.split("\n").find((l) => l.trim()) ?? "";
    return { summary: line(`Bash: ${first.trim()}`), detail: bounded(input.command) };
  }
  const file = changedFile(tool, input);
  if (file && EDIT_TOOLS.has(tool)) {
    const shown = relativeTo(facts.workspacePath, file);
    const diff = editDiff(shown, tool, input, facts.fileBefore);
    const verb = tool === "Write" && facts.fileBefore === null ? "Write (new file)" : tool;
    return { summary: line(`${verb} ${shown}`), detail: bounded(diff ?? json(input)) };
  }
  const preview = json(input).replace(/\s+/g, " ");
  return { summary: line(`${tool}: ${preview}`), detail: bounded(json(input)) };
}

/**
 * A unified diff of the change, or null when the input is not the shape sdk-tools.d.ts gives
 * (FileEditInput, FileWriteInput, MultiEdit's `edits`). When the hub could not see the file
 * (outside the workspace, unreadable) or the text is not in it, each edit's own text is diffed.
 */
function editDiff(shown: string, tool: string, input: Record<string, unknown>, before: string | null): string | null {
  if (tool === "Write") return typeof input.content === "string" ? unified(shown, before ?? "", input.content) : null;
  const edits = tool === "MultiEdit" ? input.edits : [input];
  if (!Array.isArray(edits) || edits.length === 0) return null;
  const pairs: { from: string; to: string; all: boolean }[] = [];
  for (const edit of edits as Record<string, unknown>[]) {
    if (typeof edit?.old_string !== "string" || typeof edit.new_string !== "string") return null;
    pairs.push({ from: edit.old_string, to: edit.new_string, all: edit.replace_all === true });
  }
  if (before !== null) {
    let text = before;
    let applied = true;
    for (const { from, to, all } of pairs) {
      if (from === "" || !text.includes(from)) {
        applied = false;
        break;
      }
      text = all ? text.split(from).join(to) : text.replace(from, () => to);
    }
    if (applied) return unified(shown, before, text);
  }
  return pairs.map(({ from, to }) => unified(shown, from, to)).join("\n");
}

/** jsdiff's unified diff without its leading "Index:" line and rule (the ---/+++ header says the same). */
const unified = (name: string, before: string, after: string): string =>
  createPatch(name, before, after, undefined, undefined, { context: 3 }).split("\n").slice(2).join("\n");

function relativeTo(root: string, path: string): string {
  const prefix = root.endsWith("/") ? root : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

const json = (value: unknown): string => JSON.stringify(value, null, 2) ?? String(value);

function line(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > LIMITS.title ? `${flat.slice(0, LIMITS.title - 1)}…` : flat;
}

/** At most LIMITS.prompt characters, saying how much was left out. */
export function bounded(text: string, max: number = LIMITS.prompt): string {
  if (text.length <= max) return text;
  const note = `\n… (${text.length - max} more characters not shown)`;
  return `${text.slice(0, max - note.length - 10)}${note}`;
}
