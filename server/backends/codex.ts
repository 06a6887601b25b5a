// Codex CLI: pinged with `codex --version` and `codex login status`; pre-warmed and dispatched as
// `codex exec --json -`, which loads, reads the prompt from stdin until it closes, and prints
// JSON-lines events ending with the agent's final message.
import type { Usage } from "../../shared/schemas.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import { type BackendDeps, BackendFailure, type BackendKind, type DispatchRequest } from "./backend.ts";
import { type AuthState, cliPing } from "./cli-ping.ts";
import { environmentFor } from "./environment.ts";
import {
  type CommandResult,
  describeEarlyExit,
  groupOfSession,
  processWarmSession,
  raceWithTimeout,
  readJsonLines,
  retire,
  spawnProcessGroup,
} from "./process.ts";
import type { BackendSettings } from "./settings.ts";
import { codexEvent, codexTurnUsage } from "./stream-events.ts";

const commandOf = (settings: BackendSettings) => settings.command ?? "codex";

export function execArgs(settings: BackendSettings, workspace?: ResolvedWorkspace, resume?: string): string[] {
  const execOptions = [
    ...(workspace ? workspaceArgs(workspace) : []),
    ...(settings.model ? ["--model", settings.model] : []),
    ...settings.args,
  ];
  return resume ? ["exec", ...execOptions, "resume", "--json", resume, "-"] : ["exec", "--json", ...execOptions, "-"];
}

/**
 * A workspace as Codex flags. The data directory's own folder is no Git repository and holds only
 * what tasks leave there, so Codex is told not to insist on one there.
 */
export function workspaceArgs(workspace: ResolvedWorkspace): string[] {
  const skipGitRepoCheck = workspace.codex.skipGitRepoCheck ?? workspace.name === null;
  return [
    "-C",
    workspace.path,
    ...(workspace.codex.sandbox ? ["--sandbox", workspace.codex.sandbox] : []),
    ...(skipGitRepoCheck ? ["--skip-git-repo-check"] : []),
  ];
}

const startCodex = (
  settings: BackendSettings,
  deps: BackendDeps,
  workspace: ResolvedWorkspace | undefined,
  resume?: string,
) =>
  spawnProcessGroup(commandOf(settings), execArgs(settings, workspace, resume), {
    env: environmentFor(deps.env, settings.env),
    ...((workspace?.path ?? deps.cwd) ? { cwd: workspace?.path ?? deps.cwd } : {}),
  });

/**
 * The agent message in an event, if it holds one. Current CLIs print
 * `{"type":"item.completed","item":{"type":"agent_message","text":…}}`; older ones
 * `{"msg":{"type":"agent_message","message":…}}`.
 */
function agentMessage(event: Record<string, unknown>): string | null {
  const item = event.item as { type?: unknown; text?: unknown } | undefined;
  if (event.type === "item.completed" && item?.type === "agent_message" && typeof item.text === "string") {
    return item.text;
  }
  const msg = event.msg as { type?: unknown; message?: unknown } | undefined;
  if (msg?.type === "agent_message" && typeof msg.message === "string") return msg.message;
  return null;
}

function failureIn(event: Record<string, unknown>): string | null {
  if (event.type === "turn.failed") {
    const error = event.error as { message?: unknown } | undefined;
    return typeof error?.message === "string" ? error.message : "the turn failed";
  }
  if (event.type === "error") return typeof event.message === "string" ? event.message : "error";
  return null;
}

/** `codex login status` exits 0 when logged in and says how ("Logged in using ChatGPT"). */
function codexAuth(result: CommandResult): AuthState {
  const how = /logged in using (.+)/i.exec(`${result.stdout}\n${result.stderr}`)?.[1]?.trim() ?? null;
  return { loggedIn: result.exitCode === 0, authMethod: how };
}

export const codexBackend: BackendKind<BackendSettings> = {
  kind: "codex",
  keepsConversation: true,

  ping: cliPing(commandOf, ["login", "status"], codexAuth),

  prewarm(settings, deps, { id, workspace }) {
    return processWarmSession(id, startCodex(settings, deps, workspace));
  },

  async dispatch(settings, deps: BackendDeps, request: DispatchRequest) {
    const command = commandOf(settings);
    // A pre-warmed `exec` starts a new thread: a turn that continues one starts `exec resume` cold.
    const group =
      request.session && !request.resume
        ? groupOfSession(request.session, "codex")
        : startCodex(settings, deps, request.workspace, request.resume);
    if (request.session && request.resume) request.session.kill();
    // Codex reads the whole prompt until end of input, then starts the turn.
    group.stdin.end(request.prompt);
    try {
      return await raceWithTimeout(
        group,
        { timeoutMs: request.timeoutMs, clock: deps.clock, signal: request.signal },
        async () => {
          let last: string | null = null;
          let usage: Usage | null = null;
          let threadId: string | null = request.resume ?? null;
          const failure = await readJsonLines(group, (event) => {
            usage = codexTurnUsage(event) ?? usage;
            const read = codexEvent(event);
            if (read.kind === "thread") threadId = read.threadId;
            const problem = failureIn(event);
            if (problem) return problem;
            const text = agentMessage(event);
            if (text !== null) {
              last = text;
              request.onOutput(text);
            }
            return undefined;
          });
          if (failure) throw new BackendFailure("failed", `codex reported an error: ${failure.slice(0, 500)}`);
          const exit = await group.exited;
          if (last === null || exit.exitCode !== 0) throw describeEarlyExit(command, exit, group.stderr());
          return { output: last as string, usage, conversationId: threadId };
        },
      );
    } finally {
      retire(group, deps.clock);
    }
  },
};
