// The hub's side of Claude's permission prompt. Every Claude process gets its own MCP config
// (a 0600 file naming the approval server, the hub's address, a run id and that run's own secret,
// never the hub's token: Claude, and any backend, can read the file); the router
// binds the run to its task and workspace. When Claude asks about a tool call, the workspace's
// rules answer at once (allow, deny) or the task waits in `pending-approval` for a person, bound
// to that one call by an approval id. The decision is an ordinary approve/reject — one change to
// the context document — which this module sees on its subscription and sends back as Claude's
// answer. No decision within the workspace's `approvalTimeoutMs` is a deny; the task goes on.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { isTokenValid, presentedToken } from "../../shared/access-policy.ts";
import { type Clock, systemClock, type TimerHandle } from "../../shared/clock.ts";
import {
  type Task,
  type ToolApprovalRequest,
  type ToolDecisionAnswer,
  toolApprovalRequestSchema,
} from "../../shared/schemas.ts";
import { BackendFailure, type PermissionPromptRun, type PermissionPrompts } from "../backends/backend.ts";
import { parseInput, SwitchboardError } from "../errors.ts";
import { type Logger, silentLogger } from "../log.ts";
import type { TaskContext } from "../task-context.ts";
import type { ResolvedWorkspace } from "../workspaces/settings.ts";
import { changedFile, describeToolCall, toolDecision } from "./tool-call.ts";

/** The MCP server's name in Claude's config; the tool is `mcp__<name>__approve`. */
export const APPROVAL_SERVER_NAME = "switchboard";
export const APPROVAL_TOOL = `mcp__${APPROVAL_SERVER_NAME}__approve`;
/** The largest file read to show an edit as a diff; beyond it, the edit's own text is diffed. */
export const MAX_DIFF_FILE_BYTES = 1024 * 1024;

export interface ToolApprovalsOptions {
  taskContext: TaskContext;
  clock?: Clock;
  logger?: Logger;
  /** The MCP config files live in `<dataDir>/permission-prompts` (0700; each file 0600). */
  dataDir: string;
  /** The hub's own address, known once it listens. */
  hubUrl: () => string;
  /** How Claude starts the approval server: node and its bundle. */
  server: { command: string; args: string[] };
}

interface Run {
  /** What its approval server sends as its bearer token: it stands for this run only. */
  secret: string;
  binding: { taskId: string; workspace: ResolvedWorkspace } | null;
  configPath: string;
}

interface Pending {
  id: string;
  run: string;
  taskId: string;
  summary: string;
  detail: string;
  tool: string;
  timeoutMs: number;
  timer: TimerHandle | null;
  resolve: (answer: ToolDecisionAnswer) => void;
  input: Record<string, unknown>;
}

export type ToolApprovals = ReturnType<typeof createToolApprovals>;

export function createToolApprovals(options: ToolApprovalsOptions) {
  const { taskContext } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const folder = join(options.dataDir, "permission-prompts");
  const runs = new Map<string, Run>();
  /** Per task, the calls waiting for a person, oldest first; only the first is shown. */
  const queues = new Map<string, Pending[]>();
  let unsubscribe: (() => void) | null = null;
  let checkQueued = false;
  let stopped = false;

  // A previous hub's configs name runs that died with it.
  rmSync(folder, { recursive: true, force: true });

  // ---- runs: one per Claude process ------------------------------------------------------

  function open(): PermissionPromptRun {
    if (stopped) throw new BackendFailure("cannot start", "the hub is shutting down");
    const id = randomBytes(16).toString("hex");
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const configPath = join(folder, `${id}.json`);
    const secret = randomBytes(32).toString("hex");
    const config = {
      mcpServers: {
        [APPROVAL_SERVER_NAME]: {
          type: "stdio",
          command: options.server.command,
          args: options.server.args,
          env: {
            SWITCHBOARD_HUB_URL: options.hubUrl(),
            SWITCHBOARD_PERMISSION_RUN: id,
            SWITCHBOARD_PERMISSION_SECRET: secret,
          },
        },
      },
    };
    writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
    const run: Run = { secret, binding: null, configPath };
    runs.set(id, run);
    return {
      args: ["--mcp-config", configPath, "--permission-prompt-tool", APPROVAL_TOOL],
      bind(binding) {
        run.binding = binding;
      },
      close() {
        runs.delete(id);
        rmSync(configPath, { force: true });
        for (const queue of [...queues.values()]) {
          for (const p of queue.filter((q) => q.run === id)) {
            settle(p, deny("the Claude process ended before the decision"), "its process ended");
          }
        }
      },
    };
  }

  // ---- asking ----------------------------------------------------------------------------

  /**
   * Answers one permission prompt: at once by the workspace's rules, or once a person decides.
   * `authorization` must carry the run's own secret (401 otherwise), as its approval server sends it.
   */
  async function ask(input: unknown, authorization: string | undefined): Promise<ToolDecisionAnswer> {
    const request: ToolApprovalRequest = parseInput(toolApprovalRequestSchema, input, "tool approval");
    const run = runs.get(request.run);
    if (!run) return deny("Switchboard does not know this Claude process any more (the hub restarted?); denied");
    if (!isTokenValid(run.secret, presentedToken(authorization, undefined))) {
      throw new SwitchboardError(
        "unauthorized",
        "only the approval server of this Claude process may ask about its tool calls: send its SWITCHBOARD_PERMISSION_SECRET as Authorization: Bearer",
      );
    }
    if (!run.binding) return deny("this Claude process is not running a Switchboard task; denied");
    const { taskId, workspace } = run.binding;
    const tool = request.tool_name;
    const rule = toolDecision(workspace.claude, tool);
    const where = workspace.name ? `workspace "${workspace.name}"` : "the data directory's workspace";
    if (rule === "allow") return { behavior: "allow", updatedInput: request.input };
    if (rule === "deny") return deny(`Switchboard's ${where} does not allow ${tool}`);
    const task = taskContext.getActiveTask(taskId);
    if (!task || stopped) return deny("the task is no longer running; denied");

    const view = describeToolCall({
      tool,
      input: request.input,
      fileBefore: await fileBefore(tool, request.input, workspace),
      workspacePath: workspace.path,
    });
    return new Promise<ToolDecisionAnswer>((resolveAnswer) => {
      const pending: Pending = {
        id: `tool_${randomBytes(6).toString("hex")}`,
        run: request.run,
        taskId,
        tool,
        summary: view.summary,
        detail: view.detail,
        timeoutMs: workspace.claude.approvalTimeoutMs,
        timer: null,
        resolve: resolveAnswer,
        input: request.input,
      };
      const queue = queues.get(taskId) ?? [];
      queues.set(taskId, [...queue, pending]);
      if (queue.length === 0) void show(pending);
    });
  }

  /** Reads the file an edit changes, when it lies inside the workspace's folders and is small enough. */
  async function fileBefore(
    tool: string,
    input: Record<string, unknown>,
    workspace: ResolvedWorkspace,
  ): Promise<string | null> {
    const file = changedFile(tool, input);
    if (!file) return null;
    const path = resolve(workspace.path, file);
    const roots = [workspace.path, ...(workspace.claude.addDirs ?? [])];
    if (!roots.some((root) => path.startsWith(root.endsWith(sep) ? root : root + sep))) return null;
    try {
      if ((await stat(path)).size > MAX_DIFF_FILE_BYTES) return null;
      return await readFile(path, "utf8");
    } catch {
      return null;
    }
  }

  /** Puts the task into `pending-approval` for this call and starts its timeout. */
  async function show(p: Pending): Promise<void> {
    const task = taskContext.getActiveTask(p.taskId);
    if (!task) return settle(p, deny("the task is no longer running; denied"), null);
    p.timer = clock.setTimeout(() => {
      const after = describeDuration(p.timeoutMs);
      settle(p, deny(`no decision within ${after}; denied`), `no decision within ${after}: ${p.summary} denied`);
    }, p.timeoutMs);
    p.timer.unref?.();
    try {
      await taskContext.updateTask(p.taskId, {
        status: "pending-approval",
        awaitingApproval: {
          kind: "tool",
          id: p.id,
          step: task.currentStep,
          title: p.summary,
          detail: p.detail,
          tool: p.tool,
          summary: p.summary,
        },
        lastUpdate: `${stepLabel(task)}waits for approval: ${p.summary}`,
      });
      logger.info(`task ${p.taskId} waits for approval of ${p.summary} (${p.id})`);
    } catch (error) {
      settle(p, deny(`the hub could not record the approval request: ${(error as Error).message}`), null);
    }
  }

  /**
   * Ends a pending call with its answer. When the task still shows it (a timeout, an ended process),
   * the task is set running again with `note` as its last update; then the next call is shown.
   */
  function settle(p: Pending, answer: ToolDecisionAnswer, note: string | null): void {
    const queue = queues.get(p.taskId) ?? [];
    const wasShown = queue[0] === p;
    const rest = queue.filter((q) => q !== p);
    if (rest.length > 0) queues.set(p.taskId, rest);
    else queues.delete(p.taskId);
    if (p.timer) clock.clearTimeout(p.timer);
    p.resolve(answer);
    const task = taskContext.getActiveTask(p.taskId);
    if (task?.awaitingApproval?.id === p.id) {
      taskContext
        .updateTask(p.taskId, {
          status: "running",
          awaitingApproval: null,
          ...(note ? { lastUpdate: note } : {}),
        })
        .catch(() => {});
    }
    if (wasShown && rest[0] && !stopped) void show(rest[0]);
  }

  /** Decisions arrive as changes to the context document (approve, reject, cancel from any channel). */
  function check(): void {
    checkQueued = false;
    for (const [taskId, queue] of [...queues]) {
      const head = queue[0];
      if (!head) continue;
      const task = taskContext.getActiveTask(taskId);
      if (!task) {
        for (const p of queue) settle(p, deny("the task ended before the decision; denied"), null);
        continue;
      }
      if (task.approval?.id !== head.id) continue;
      const { decision, channel } = task.approval;
      const answer: ToolDecisionAnswer =
        decision === "approved"
          ? { behavior: "allow", updatedInput: head.input }
          : deny(`rejected on ${channel}${task.approval.reason ? `: ${task.approval.reason}` : ""}`);
      logger.info(`task ${taskId}: ${head.summary} ${decision} on ${channel}`);
      settle(head, answer, null);
    }
  }

  function start(): void {
    unsubscribe = taskContext.document.subscribe(() => {
      if (checkQueued) return;
      checkQueued = true;
      queueMicrotask(check);
    });
  }

  /** Denies every waiting call (the hub is stopping) and refuses new ones. */
  function stop(): void {
    stopped = true;
    unsubscribe?.();
    for (const queue of [...queues.values()]) {
      for (const p of queue) {
        if (p.timer) clock.clearTimeout(p.timer);
        p.resolve(deny("the Switchboard hub is shutting down; denied"));
      }
    }
    queues.clear();
    for (const run of runs.values()) rmSync(run.configPath, { force: true });
    runs.clear();
  }

  const prompts: PermissionPrompts = { open };
  return { prompts, ask, start, stop, pendingCount: () => [...queues.values()].reduce((n, q) => n + q.length, 0) };
}

const deny = (message: string): ToolDecisionAnswer => ({ behavior: "deny", message });

const stepLabel = (task: Task): string =>
  task.currentStep > 0 && task.totalSteps > 0 ? `step ${task.currentStep} of ${task.totalSteps} ` : "";

/** "10 minutes", "90 seconds", "250 ms". */
export function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? "" : "s"}`;
  if (ms % 1000 === 0) return `${ms / 1000} second${ms === 1000 ? "" : "s"}`;
  return `${ms} ms`;
}

/** Files left by nothing: used by tests to prove a closed run removed its config. */
export function permissionPromptFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, "permission-prompts"));
  } catch {
    return [];
  }
}
