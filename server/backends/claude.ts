// Claude Code: pinged with `claude --version` and `claude auth status`; pre-warmed and dispatched
// in stream-json mode (`claude -p --input-format stream-json --output-format stream-json --verbose`),
// where the process loads, waits on stdin, and answers each user message with JSON events.
import type { ClaudeWorkspace, ResolvedWorkspace } from "../workspaces/settings.ts";
import {
  type BackendDeps,
  BackendFailure,
  type BackendKind,
  type DispatchRequest,
  type PermissionPromptRun,
} from "./backend.ts";
import { type AuthState, cliPing, parseJsonObject } from "./cli-ping.ts";
import { environmentFor } from "./environment.ts";
import {
  type CommandResult,
  describeEarlyExit,
  groupOfSession,
  type ProcessGroup,
  processWarmSession,
  raceWithTimeout,
  readJsonLines,
  retire,
  spawnProcessGroup,
} from "./process.ts";
import type { BackendSettings } from "./settings.ts";
import { claudeEvent, claudeRateLimit, claudeResultUsage, type RateLimitInfo } from "./stream-events.ts";

const commandOf = (settings: BackendSettings) => settings.command ?? "claude";

/** How one Claude process is started besides its backend settings: its workspace's rules and permission prompt. */
export interface ClaudeLaunch {
  workspace?: ClaudeWorkspace;
  /** The hub's approval MCP server (`--mcp-config … --permission-prompt-tool …`). */
  permissionPromptArgs?: string[];
  /** The conversation (session id) to continue. */
  resume?: string;
}

export function streamJsonArgs(settings: BackendSettings, launch: ClaudeLaunch = {}): string[] {
  return [
    "-p",
    "--input-format",
    "stream-json",
    "--output-format",
    "stream-json",
    "--verbose",
    ...(settings.model ? ["--model", settings.model] : []),
    ...(launch.resume ? ["--resume", launch.resume] : []),
    ...(launch.workspace ? workspaceArgs(launch.workspace) : []),
    ...(launch.permissionPromptArgs ?? []),
    ...settings.args,
  ];
}

/** A workspace's Claude rules as flags, spelled as Claude's own SDK spells them (lists comma-joined). */
export function workspaceArgs(workspace: ClaudeWorkspace): string[] {
  const mode = workspace.permissionMode;
  return [
    ...(mode ? ["--permission-mode", mode] : []),
    // Claude refuses bypassPermissions unless it is also allowed explicitly.
    ...(mode === "bypassPermissions" ? ["--allow-dangerously-skip-permissions"] : []),
    ...(workspace.allowedTools?.length ? ["--allowedTools", workspace.allowedTools.join(",")] : []),
    ...(workspace.disallowedTools?.length ? ["--disallowedTools", workspace.disallowedTools.join(",")] : []),
    ...(workspace.addDirs ?? []).flatMap((dir) => ["--add-dir", dir]),
    ...(workspace.maxTurns !== undefined ? ["--max-turns", String(workspace.maxTurns)] : []),
    ...(workspace.maxBudgetUsd !== undefined ? ["--max-budget-usd", String(workspace.maxBudgetUsd)] : []),
  ];
}

// The permission prompt a process was started with, so a warm session's run can be bound to its task.
const promptRuns = new WeakMap<ProcessGroup, PermissionPromptRun>();

/** Starts one Claude process in its workspace folder, with the hub's permission prompt when there is one. */
function startClaude(
  settings: BackendSettings,
  deps: BackendDeps,
  workspace: ResolvedWorkspace | undefined,
  resume?: string,
): ProcessGroup {
  const run = deps.permissionPrompts?.open() ?? null;
  const args = streamJsonArgs(settings, {
    ...(resume ? { resume } : {}),
    ...(workspace ? { workspace: workspace.claude } : {}),
    ...(run ? { permissionPromptArgs: run.args } : {}),
  });
  const group = spawnProcessGroup(commandOf(settings), args, {
    env: environmentFor(deps.env, settings.env),
    ...((workspace?.path ?? deps.cwd) ? { cwd: workspace?.path ?? deps.cwd } : {}),
  });
  if (run) {
    promptRuns.set(group, run);
    void group.exited.then(() => run.close());
  }
  return group;
}

/** One stream-json user message: how a task's prompt is written to a waiting Claude process. */
export function userMessage(prompt: string): string {
  return `${JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "text", text: prompt }] } })}\n`;
}

/** The text blocks of an `assistant` event. */
function assistantText(event: Record<string, unknown>): string {
  const message = event.message as { content?: unknown } | undefined;
  if (!Array.isArray(message?.content)) return "";
  return message.content
    .filter(
      (block): block is { type: "text"; text: string } => block?.type === "text" && typeof block.text === "string",
    )
    .map((block) => block.text)
    .join("");
}

/** `claude auth status` prints JSON with `loggedIn` and `authMethod`; exit status 1 when logged out. */
function claudeAuth(result: CommandResult): AuthState {
  const status = parseJsonObject(result.stdout);
  const loggedIn = result.exitCode === 0 && status?.loggedIn !== false;
  const method = status?.authMethod;
  return { loggedIn, authMethod: typeof method === "string" ? method : null };
}

export const claudeBackend: BackendKind<BackendSettings> = {
  kind: "claude",
  keepsConversation: true,

  ping: cliPing(commandOf, ["auth", "status"], claudeAuth),

  prewarm(settings, deps, { id, workspace }) {
    return processWarmSession(id, startClaude(settings, deps, workspace));
  },

  async dispatch(settings, deps: BackendDeps, request: DispatchRequest) {
    const command = commandOf(settings);
    // A kept process already holds the conversation; a cold one is told which to resume.
    const group = request.session
      ? groupOfSession(request.session, "claude")
      : startClaude(settings, deps, request.workspace, request.resume);
    if (request.taskId && request.workspace) {
      promptRuns.get(group)?.bind({ taskId: request.taskId, workspace: request.workspace });
    }
    group.stdin.write(userMessage(request.prompt));
    let kept = false;
    try {
      const result = await raceWithTimeout(
        group,
        { timeoutMs: request.timeoutMs, clock: deps.clock, signal: request.signal },
        async () => {
          const streamed: string[] = [];
          let rateLimit: RateLimitInfo | null = null;
          let sessionId: string | null = request.resume ?? null;
          const final = await readJsonLines(group, (event) => {
            rateLimit = claudeRateLimit(event) ?? rateLimit;
            const read = claudeEvent(event);
            if (read.kind === "init" || read.kind === "result") sessionId = read.sessionId ?? sessionId;
            if (event.type === "assistant") {
              const text = assistantText(event);
              if (text) {
                streamed.push(text);
                request.onOutput(text);
              }
            }
            if (event.type === "result") return event;
            return undefined;
          });
          if (!final) {
            const failure = describeEarlyExit(command, await group.exited, group.stderr());
            failure.rateLimit = rateLimit;
            throw failure;
          }
          const usage = claudeResultUsage(final);
          if (final.is_error === true || (typeof final.subtype === "string" && final.subtype !== "success")) {
            const detail = typeof final.result === "string" ? final.result : String(final.subtype ?? "error");
            const failure = new BackendFailure("failed", `claude reported an error: ${detail.slice(0, 500)}`);
            failure.usage = usage;
            failure.rateLimit = rateLimit;
            throw failure;
          }
          const output = typeof final.result === "string" ? final.result : streamed.join("");
          return { output, usage, rateLimit, conversationId: sessionId };
        },
      );
      kept = request.keep === true && !group.hasExited && result.conversationId !== null;
      return kept ? { ...result, kept: processWarmSession(`conversation-${result.conversationId}`, group) } : result;
    } finally {
      if (!kept) retire(group, deps.clock);
    }
  },
};
