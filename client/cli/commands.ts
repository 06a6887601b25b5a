// The `switchboard` command table: each command's usage, options and what it asks the hub.
// Exit status 0 = done, 1 = the hub refused (its message is printed) or is unreachable,
// 2 = bad usage (dispatch.ts parses the command line and maps errors to these). Every command
// marks the `cli` channel active.
import type { Context, Health, Task } from "../../shared/schemas.ts";
import {
  backendSentence,
  followUpSentence,
  healthSentence,
  startedSentence,
  summarySentence,
  taskSentence,
} from "../phrasing.ts";
import { usageTable } from "../usage-view.ts";
import { workspacesText } from "../workspace-view.ts";
import { parseInteger, parseStep, parseTaskFields, STATUS_CHOICES } from "./arguments.ts";
import { type Command, type CommandContext, UsageError } from "./command.ts";

const WORKSPACE_DETAIL =
  "--workspace NAME: the configured folder it works in (switchboard workspaces lists them); without it, the hub's default.";

/** The command table: one entry per command, named by its words (`task add`). */
export const COMMANDS: Record<string, Command> = {
  status: {
    usage: "switchboard status",
    summary: "one-shot summary of the tasks and backends",
    positionals: { min: 0, max: 0 },
    async run(ctx) {
      // Marking the channel waits for the hub's disk; the reads need not wait for it.
      const [context, health] = await Promise.all([
        ctx.client.getContext(),
        ctx.client.getHealth(),
        markCli(ctx, null),
      ]);
      ctx.print(statusText(context, health, ctx.io.now()), { context, health });
      return 0;
    },
  },
  watch: {
    usage: "switchboard watch",
    summary: "live view: a progress bar per task and the backends' health, redrawn as changes arrive",
    details: ["Reconnects by itself when the hub goes away. Ctrl-C to stop."],
    positionals: { min: 0, max: 0 },
    async run(ctx) {
      const { watch } = await import("./watch.ts");
      return watch(ctx);
    },
  },
  route: {
    usage:
      'switchboard route "description" [--step "title: prompt"]… [--backend NAME] [--kind KIND] [--output PATH] [--workspace NAME]',
    summary: "hand a new task to the hub's router",
    details: [
      "Each --step is one step of the plan, its title and prompt separated by the first colon.",
      WORKSPACE_DETAIL,
    ],
    options: {
      step: { type: "string", multiple: true },
      backend: { type: "string" },
      kind: { type: "string" },
      output: { type: "string" },
      workspace: { type: "string" },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const request: Record<string, unknown> = { description: ctx.positionals[0], startedFrom: "cli" };
      const steps = ((ctx.values.step as string[] | undefined) ?? []).map(parseStep);
      if (steps.length > 0) request.steps = steps;
      if (ctx.values.backend) request.backend = ctx.values.backend;
      if (ctx.values.kind) request.kind = ctx.values.kind;
      if (ctx.values.output) request.outputPath = ctx.values.output;
      if (ctx.values.workspace) request.workspace = ctx.values.workspace;
      const routed = await ctx.client.request<Record<string, unknown>>("POST", "/api/route", request);
      const taskId = typeof routed?.taskId === "string" ? routed.taskId : null;
      await markCli(ctx, taskId);
      ctx.print(`Routed as ${taskId ?? "(no task id returned)"}`, routed);
      return 0;
    },
  },
  new: {
    usage: 'switchboard new "what the task should do" [--backend NAME] [--workspace NAME]',
    summary: "start a task: the router picks a backend and plans it from your words",
    details: [
      "Follow it up with switchboard say <taskId> and read the answer with switchboard output <taskId>.",
      WORKSPACE_DETAIL,
    ],
    options: { backend: { type: "string" }, workspace: { type: "string" } },
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const text = ctx.positionals[0] as string;
      // intake.ts reads the schemas' limits: loaded here, so other commands start without zod.
      const problem = (await import("../intake.ts")).textProblem(text);
      if (problem) throw new UsageError(problem);
      const backend = ctx.values.backend as string | undefined;
      const workspace = ctx.values.workspace as string | undefined;
      const routed = await ctx.client.route({
        description: text.trim(),
        startedFrom: "cli",
        ...(backend ? { backend } : {}),
        ...(workspace ? { workspace } : {}),
      });
      ctx.print(`${startedSentence({ description: text.trim() })}: ${routed.taskId}.`, routed);
      return 0;
    },
  },
  workspaces: {
    usage: "switchboard workspaces [--json]",
    summary: "the workspaces a task may name with --workspace: how each backend may act there",
    positionals: { min: 0, max: 0 },
    async run(ctx) {
      const list = await ctx.client.getWorkspaces();
      await markCli(ctx, null);
      ctx.print(workspacesText(list), list);
      return 0;
    },
  },
  say: {
    usage: 'switchboard say <taskId> "what to add"',
    summary: "a follow-up in a task's conversation (queued after its current step, or reopening it when finished)",
    positionals: { min: 2, max: 2 },
    async run(ctx) {
      const [taskId, text] = ctx.positionals as [string, string];
      if (!text.trim()) throw new UsageError("say what to add to the task");
      const accepted = await ctx.client.sendMessage(taskId, text.trim(), "cli");
      const task = await ctx.client.getTask(taskId).catch(() => null);
      ctx.print(`${followUpSentence(task ?? { description: taskId }, accepted.step)}.`, accepted);
      return 0;
    },
  },
  output: {
    usage: "switchboard output <taskId> [--json]",
    summary: "the task's answers so far, as Markdown (--json: the whole transcript)",
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const taskId = ctx.positionals[0] as string;
      if (ctx.json) {
        const transcript = await ctx.client.getTranscript(taskId);
        await markCli(ctx, taskId);
        ctx.print("", transcript);
        return 0;
      }
      const markdown = await ctx.client.getOutput(taskId);
      await markCli(ctx, taskId);
      // The Markdown as the hub keeps it; nothing before any answer.
      ctx.io.stdout.write(markdown);
      return 0;
    },
  },
  "task add": {
    usage:
      'switchboard task add "description" [--id ID] [--step TITLE]… [--status S] [--progress P] [--eta WHEN] [--output PATH]',
    summary: "publish a task you are running yourself",
    details: [
      `--status is one of ${STATUS_CHOICES}; --progress is 0..1; --eta is an ISO time or a duration from now (30s, 12m, 2h).`,
    ],
    options: {
      id: { type: "string" },
      step: { type: "string", multiple: true },
      status: { type: "string" },
      progress: { type: "string" },
      eta: { type: "string" },
      output: { type: "string" },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const task: Record<string, unknown> = { description: ctx.positionals[0], startedFrom: "cli" };
      if (ctx.values.id) task.taskId = ctx.values.id;
      const steps = (ctx.values.step as string[] | undefined) ?? [];
      if (steps.length > 0) task.plan = { steps: steps.map((title) => ({ title })) };
      Object.assign(task, parseTaskFields(ctx.values, ctx.io.now()));
      const added = await ctx.client.addTask(task);
      await markCli(ctx, added.taskId);
      ctx.print(`Added ${added.taskId}. ${taskSentence(added, null, ctx.io.now())}.`, added);
      return 0;
    },
  },
  "task update": {
    usage:
      "switchboard task update <taskId> [--status S] [--step N] [--total-steps N] [--progress P] [--eta WHEN] [--note TEXT] [--output PATH]",
    summary: "change a task's status, step, progress, ETA or last update",
    details: [`--status is one of ${STATUS_CHOICES}; --eta none clears the ETA.`],
    options: {
      status: { type: "string" },
      step: { type: "string" },
      "total-steps": { type: "string" },
      progress: { type: "string" },
      eta: { type: "string" },
      note: { type: "string" },
      output: { type: "string" },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const updates: Record<string, unknown> = parseTaskFields(ctx.values, ctx.io.now());
      if (ctx.values.step !== undefined) updates.currentStep = parseInteger("--step", ctx.values.step as string);
      if (ctx.values["total-steps"] !== undefined) {
        updates.totalSteps = parseInteger("--total-steps", ctx.values["total-steps"] as string);
      }
      if (ctx.values.note !== undefined) updates.lastUpdate = ctx.values.note;
      if (Object.keys(updates).length === 0) {
        throw new UsageError(
          "nothing to update: give at least one of --status, --step, --total-steps, --progress, --eta, --note, --output",
        );
      }
      const taskId = ctx.positionals[0] as string;
      const updated = await ctx.client.updateTask(taskId, updates);
      await markCli(ctx, taskId);
      ctx.print(`${taskSentence(updated, null, ctx.io.now())}.`, updated);
      return 0;
    },
  },
  "task complete": {
    usage: "switchboard task complete <taskId> [--failed] [--error TEXT] [--result TEXT] [--output PATH]",
    summary: "finish a task (complete, or failed with --failed)",
    options: {
      failed: { type: "boolean" },
      error: { type: "string" },
      result: { type: "string" },
      output: { type: "string" },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const completion: Record<string, unknown> = {};
      if (ctx.values.failed || ctx.values.error !== undefined) completion.status = "failed";
      if (ctx.values.error !== undefined) completion.error = ctx.values.error;
      if (ctx.values.result !== undefined) completion.result = ctx.values.result;
      if (ctx.values.output !== undefined) completion.outputPath = ctx.values.output;
      const taskId = ctx.positionals[0] as string;
      const finished = await ctx.client.completeTask(taskId, completion);
      await markCli(ctx, taskId);
      ctx.print(`${taskSentence(finished, null, ctx.io.now())}.`, finished);
      return 0;
    },
  },
  approve: taskAction("approve", "approve the step or the tool call a task is waiting on"),
  reject: taskAction(
    "reject",
    "reject what a task waits on: a step (the task fails) or a tool call (Claude is told no and goes on)",
    true,
  ),
  cancel: taskAction("cancel", "cancel a task (it fails as cancelled)"),
  usage: {
    usage: "switchboard usage [--json]",
    summary: "runs, tokens and cost per backend: today and the last 7 days",
    details: ["--json prints the whole usage document: per backend, per day (last 30 days) and in total."],
    positionals: { min: 0, max: 0 },
    async run(ctx) {
      const usage = await ctx.client.getUsage();
      await markCli(ctx, null);
      ctx.print(usageTable(usage, ctx.io.now()), usage);
      return 0;
    },
  },
  ping: backendAction("ping", "ping a backend now and show its health"),
  prewarm: backendAction("prewarm", "start a pre-warmed session on a backend"),
};

function taskAction(action: "approve" | "reject" | "cancel", summary: string, reason = false): Command {
  const decides = action !== "cancel";
  return {
    usage: `switchboard ${action} <taskId>${decides ? " [--step N] [--approval ID]" : ""}${reason ? " [--reason TEXT]" : ""}`,
    summary,
    ...(decides
      ? {
          details: [
            "--step N: the step you saw waiting (as `status` shows it); the hub refuses a decision on any other.",
            "--approval ID: the tool call you saw waiting (its awaitingApproval.id in `status --json`); the hub refuses a decision on any other.",
            "Without them, what waits now (the step, and the tool call if it is one) is read from the hub, decided on, and named in the answer.",
          ],
        }
      : {}),
    options: {
      ...(decides ? { step: { type: "string" }, approval: { type: "string" } } : {}),
      ...(reason ? { reason: { type: "string" } } : {}),
    },
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const taskId = ctx.positionals[0] as string;
      if (!decides) {
        const task = await ctx.client.cancel(taskId);
        ctx.print(`${taskSentence(task, null, ctx.io.now())}.`, task);
        return 0;
      }
      const givenStep = ctx.values.step as string | undefined;
      const givenApproval = ctx.values.approval as string | undefined;
      // The step is always sent: the one the person saw, or the one read just now and named; so
      // is a tool call's approval id when read here. The schemas module (and zod with it) is
      // loaded only here, so other commands start without it.
      let step: number;
      let toolCall: { id: string; summary: string } | null = null;
      if (givenStep !== undefined) {
        step = parseInteger("--step", givenStep);
      } else {
        const waiting = await ctx.client.getTask(taskId);
        step = (await import("../../shared/schemas.ts")).waitingStep(waiting);
        const shown = waiting.awaitingApproval;
        if (givenApproval === undefined && shown?.kind === "tool" && shown.id) {
          toolCall = { id: shown.id, summary: shown.summary || shown.title };
        }
      }
      const approvalId = givenApproval ?? toolCall?.id;
      const task =
        action === "reject"
          ? await ctx.client.reject(taskId, ctx.values.reason as string | undefined, step, approvalId)
          : await ctx.client.approve(taskId, step, approvalId);
      // The hub marks the acting channel (cli) active itself.
      const verb = action === "approve" ? "approved" : "rejected";
      const decided = toolCall
        ? ` (tool call ${toolCall.summary} ${verb})`
        : givenApproval
          ? ` (tool call ${givenApproval} ${verb})`
          : step > 0
            ? ` (step ${step} ${verb})`
            : "";
      ctx.print(`${taskSentence(task, null, ctx.io.now())}.${decided}`, task);
      return 0;
    },
  };
}

function backendAction(action: "ping" | "prewarm", summary: string): Command {
  return {
    usage: `switchboard ${action} <backend>`,
    summary,
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const backend = ctx.positionals[0] as string;
      const answer = await ctx.client[action](backend);
      await markCli(ctx, null);
      if (action === "ping") {
        ctx.print(`${backendSentence(backend, answer as Health["backends"][string], ctx.io.now())}.`, answer);
      } else {
        const session = (answer as { session?: { id?: string; state?: string } } | undefined)?.session;
        ctx.print(`Pre-warming ${backend}${session?.id ? `: session ${session.id} is ${session.state}` : ""}.`, answer);
      }
      return 0;
    },
  };
}

async function markCli(ctx: CommandContext, taskId: string | null): Promise<void> {
  await ctx.client.setChannelActive("cli", taskId ?? undefined);
}

/** `status` as text: the summary, a sentence per active task, the last finished, the backends. */
function statusText(context: Context, health: Health, now: number): string {
  const lines = [`${summarySentence(context, now)}.`];
  for (const task of context.activeTasks) {
    lines.push(`  ${task.taskId}: ${taskSentence(task, context, now)}.`);
    if (task.status === "pending-approval" && task.awaitingApproval?.kind === "tool") {
      lines.push(...toolCallLines(task.awaitingApproval.detail));
    }
  }
  const last = context.recentCompleted[0] as Task | undefined;
  if (last) lines.push(`Last finished — ${last.taskId}: ${taskSentence(last, context, now)}.`);
  lines.push(`Backends: ${healthSentence(health, now)}.`);
  return lines.join("\n");
}

/** The most of a tool call's detail (the command, the diff) `status` prints under its task. */
const TOOL_DETAIL_LINES = 20;

/** A tool call's command or diff, indented under its task; a long one is cut, saying where the rest is. */
function toolCallLines(detail: string): string[] {
  const lines = detail.replace(/\n$/, "").split("\n");
  const shown = lines.slice(0, TOOL_DETAIL_LINES).map((line) => `      ${line}`);
  if (lines.length > TOOL_DETAIL_LINES) {
    shown.push(`      … ${lines.length - TOOL_DETAIL_LINES} more lines (switchboard status --json shows all)`);
  }
  return shown;
}
