// The `switchboard` commands: their usage, how each parses its arguments and what it asks the
// hub. Exit status 0 = done, 1 = the hub refused (its message is printed) or is unreachable,
// 2 = bad usage. Every command marks the `cli` channel active.
import { parseArgs } from "node:util";
import { ACTIVE_STATUSES, type Context, type Health, type Task } from "../../server/schemas.ts";
import { type HubClient, HubError } from "../hub-client.ts";
import { createNodeHubClient } from "../node-hub-client.ts";
import { backendSentence, healthSentence, summarySentence, taskSentence } from "../progress.ts";

export const DEFAULT_HUB = "http://127.0.0.1:7433";

/** Where a command writes, and what it knows of its surroundings; injected so tests can capture it. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** Resolves when the person asks to stop (Ctrl-C); only `watch` waits on it. */
  interrupted: Promise<void>;
}

export class UsageError extends Error {}

/** What a command gets: its parsed options, positionals, the hub client and how to print. */
export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  client: HubClient;
  hubUrl: string;
  json: boolean;
  io: CliIO;
  print(text: string, json: unknown): void;
}

type OptionSpec = { type: "string" | "boolean"; multiple?: boolean; short?: string };

interface Command {
  usage: string;
  summary: string;
  /** Lines after the usage in --help. */
  details?: string[];
  options?: Record<string, OptionSpec>;
  positionals: { min: number; max: number };
  run(ctx: CommandContext): Promise<number>;
}

const COMMON_HELP = [
  "Options for every command:",
  `  --hub URL   the hub (default ${DEFAULT_HUB}); the token comes from SWITCHBOARD_TOKEN`,
  "  --json      machine-readable output",
  "  --help      this help",
];

const statusChoices = ACTIVE_STATUSES.join(", ");

const COMMANDS: Record<string, Command> = {
  status: {
    usage: "switchboard status",
    summary: "one-shot summary of the tasks and backends",
    positionals: { min: 0, max: 0 },
    async run(ctx) {
      const [context, health] = await Promise.all([ctx.client.getContext(), ctx.client.getHealth()]);
      await markCli(ctx, null);
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
    usage: 'switchboard route "description" [--step "title: prompt"]… [--backend NAME] [--kind KIND] [--output PATH]',
    summary: "hand a new task to the hub's router",
    details: ["Each --step is one step of the plan, its title and prompt separated by the first colon."],
    options: {
      step: { type: "string", multiple: true },
      backend: { type: "string" },
      kind: { type: "string" },
      output: { type: "string" },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const request: Record<string, unknown> = { description: ctx.positionals[0], startedFrom: "cli" };
      const steps = ((ctx.values.step as string[] | undefined) ?? []).map(parseStep);
      if (steps.length > 0) request.steps = steps;
      if (ctx.values.backend) request.backend = ctx.values.backend;
      if (ctx.values.kind) request.kind = ctx.values.kind;
      if (ctx.values.output) request.outputPath = ctx.values.output;
      const routed = await ctx.client.request<Record<string, unknown>>("POST", "/api/route", request);
      const taskId = typeof routed?.taskId === "string" ? routed.taskId : null;
      await markCli(ctx, taskId);
      ctx.print(`Routed as ${taskId ?? "(no task id returned)"}`, routed);
      return 0;
    },
  },
  "task add": {
    usage:
      'switchboard task add "description" [--id ID] [--step TITLE]… [--status S] [--progress P] [--eta WHEN] [--output PATH]',
    summary: "publish a task you are running yourself",
    details: [
      `--status is one of ${statusChoices}; --progress is 0..1; --eta is an ISO time or a duration from now (30s, 12m, 2h).`,
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
      Object.assign(task, taskFields(ctx));
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
    details: [`--status is one of ${statusChoices}; --eta none clears the ETA.`],
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
      const updates: Record<string, unknown> = taskFields(ctx);
      if (ctx.values.step !== undefined) updates.currentStep = integer("--step", ctx.values.step as string);
      if (ctx.values["total-steps"] !== undefined) {
        updates.totalSteps = integer("--total-steps", ctx.values["total-steps"] as string);
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
  approve: taskAction("approve", "approve the step a task is waiting on"),
  reject: taskAction("reject", "reject a task waiting for approval (it fails)", true),
  cancel: taskAction("cancel", "cancel a task (it fails as cancelled)"),
  ping: backendAction("ping", "ping a backend now and show its health"),
  prewarm: backendAction("prewarm", "start a pre-warmed session on a backend"),
};

function taskAction(action: "approve" | "reject" | "cancel", summary: string, reason = false): Command {
  return {
    usage: `switchboard ${action} <taskId>${reason ? " [--reason TEXT]" : ""}`,
    summary,
    ...(reason ? { options: { reason: { type: "string" } } } : {}),
    positionals: { min: 1, max: 1 },
    async run(ctx) {
      const taskId = ctx.positionals[0] as string;
      const task =
        action === "reject"
          ? await ctx.client.reject(taskId, ctx.values.reason as string | undefined)
          : await ctx.client[action](taskId);
      // The hub marks the acting channel (cli) active itself.
      ctx.print(`${taskSentence(task, null, ctx.io.now())}.`, task);
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

/** The fields `task add` and `task update` share: status, progress, ETA, output path. */
function taskFields(ctx: CommandContext): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const { status, progress, eta, output } = ctx.values as Record<string, string | undefined>;
  if (status !== undefined) {
    if (!(ACTIVE_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(
        `--status must be one of ${statusChoices} (got ${JSON.stringify(status)}); finish a task with "task complete"`,
      );
    }
    fields.status = status;
  }
  if (progress !== undefined) {
    const value = Number(progress);
    if (progress.trim() === "" || !(value >= 0 && value <= 1)) {
      throw new UsageError(`--progress must be a number from 0 to 1, like 0.6 (got ${JSON.stringify(progress)})`);
    }
    fields.progress = value;
  }
  if (eta !== undefined) fields.eta = parseEta(eta, ctx.io.now());
  if (output !== undefined) fields.outputPath = output;
  return fields;
}

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ETA as given on the command line: an ISO time, a duration from now (12m), or "none". */
export function parseEta(text: string, now: number): string | null {
  if (text === "none") return null;
  const duration = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text.trim());
  if (duration)
    return new Date(now + Number(duration[1]) * (DURATION_UNITS[duration[2] as string] as number)).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)))
    return new Date(Date.parse(text)).toISOString();
  throw new UsageError(
    `--eta must be an ISO time, a duration from now like 30s, 12m or 2h, or none (got ${JSON.stringify(text)})`,
  );
}

/** A --step of `route`: "title: prompt", split at the first colon. */
export function parseStep(text: string): { title: string; prompt: string } {
  const colon = text.indexOf(":");
  const title = colon > 0 ? text.slice(0, colon).trim() : "";
  const prompt = colon > 0 ? text.slice(colon + 1).trim() : "";
  if (!title || !prompt) {
    throw new UsageError(
      `--step must be "title: prompt", like "Summarize: summarize the report" (got ${JSON.stringify(text)})`,
    );
  }
  return { title, prompt };
}

function integer(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new UsageError(`${flag} must be a whole number, like 2 (got ${JSON.stringify(text)})`);
  }
  return value;
}

async function markCli(ctx: CommandContext, taskId: string | null): Promise<void> {
  await ctx.client.setChannelActive("cli", taskId ?? undefined);
}

/** `status` as text: the summary, a sentence per active task, the last finished, the backends. */
export function statusText(context: Context, health: Health, now: number): string {
  const lines = [`${summarySentence(context, now)}.`];
  for (const task of context.activeTasks) lines.push(`  ${task.taskId}: ${taskSentence(task, context, now)}.`);
  const last = context.recentCompleted[0] as Task | undefined;
  if (last) lines.push(`Last finished — ${last.taskId}: ${taskSentence(last, context, now)}.`);
  lines.push(`Backends: ${healthSentence(health)}.`);
  return lines.join("\n");
}

function helpText(name: string | null): string {
  if (name) {
    const command = COMMANDS[name] as Command;
    return [
      `Usage: ${command.usage}`,
      "",
      `${capitalize(command.summary)}.`,
      ...(command.details ?? []),
      "",
      ...COMMON_HELP,
    ].join("\n");
  }
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    "Usage: switchboard <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
    "",
    ...COMMON_HELP,
    "",
    "Run switchboard <command> --help for a command's options.",
  ].join("\n");
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Finds the command named by the first one or two words (`task add`). */
function findCommand(argv: string[]): { name: string | null; rest: string[]; unknown: string | null } {
  // The first word that is neither an option nor --hub's value.
  const first = argv.findIndex((a, i) => !a.startsWith("-") && argv[i - 1] !== "--hub");
  if (first === -1) return { name: null, rest: argv, unknown: null };
  const word = argv[first] as string;
  const before = argv.slice(0, first);
  if (word === "task") {
    const sub = argv[first + 1];
    if (sub && COMMANDS[`task ${sub}`])
      return { name: `task ${sub}`, rest: [...before, ...argv.slice(first + 2)], unknown: null };
    return { name: null, rest: argv, unknown: sub ? `task ${sub}` : "task" };
  }
  if (COMMANDS[word]) return { name: word, rest: [...before, ...argv.slice(first + 1)], unknown: null };
  return { name: null, rest: argv, unknown: word };
}

/** Runs `switchboard …argv`; resolves with the exit status. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const usage = (message: string, name: string | null): number => {
    io.stderr.write(`switchboard: ${message}\n\n${helpText(name)}\n`);
    return 2;
  };
  const { name, rest, unknown } = findCommand(argv);
  if (!name) {
    if (unknown === "task") return usage('"task" needs a subcommand: add, update or complete', null);
    if (unknown) return usage(`unknown command "${unknown}"`, null);
    if (argv.includes("--help") || argv.includes("-h")) {
      io.stdout.write(`${helpText(null)}\n`);
      return 0;
    }
    return usage("say which command to run", null);
  }
  const command = COMMANDS[name] as Command;
  let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        ...(command.options ?? {}),
        hub: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    return usage((error as Error).message, name);
  }
  if (parsed.values.help) {
    io.stdout.write(`${helpText(name)}\n`);
    return 0;
  }
  const { min, max } = command.positionals;
  if (parsed.positionals.length < min) return usage(`missing argument: ${command.usage}`, name);
  if (parsed.positionals.length > max) {
    return usage(
      `unexpected argument ${JSON.stringify(parsed.positionals[max])} (quote a description with spaces)`,
      name,
    );
  }
  const hubUrl = String(parsed.values.hub ?? io.env.SWITCHBOARD_HUB ?? DEFAULT_HUB);
  try {
    const url = new URL(hubUrl);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
  } catch {
    return usage(`--hub must be an http:// or https:// URL, like ${DEFAULT_HUB} (got ${JSON.stringify(hubUrl)})`, name);
  }
  const json = parsed.values.json === true;
  const client = createNodeHubClient({ url: hubUrl, token: io.env.SWITCHBOARD_TOKEN?.trim() || null, channel: "cli" });
  const ctx: CommandContext = {
    values: parsed.values,
    positionals: parsed.positionals,
    client,
    hubUrl,
    json,
    io,
    print(text, data) {
      io.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
    },
  };
  try {
    return await command.run(ctx);
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message, name);
    if (error instanceof HubError) {
      io.stderr.write(
        json
          ? `${JSON.stringify({ error: { code: error.code, message: error.message, status: error.status } })}\n`
          : `switchboard: ${error.message} (${error.status} ${error.code})\n`,
      );
      return 1;
    }
    // fetch reports a network failure as a TypeError whose cause says what happened.
    const why = (error as { cause?: { code?: string; message?: string } }).cause;
    const cause = why?.code ?? why?.message;
    if (error instanceof TypeError && cause) {
      io.stderr.write(
        `switchboard: cannot reach the hub at ${hubUrl} (${cause}); is it running? Start it with npm start\n`,
      );
      return 1;
    }
    throw error;
  } finally {
    client.close();
  }
}
