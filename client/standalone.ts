// What every channel run on its own (`npm run voice`, `telegram`, `slack`) shares: a command line
// with --hub URL and --help (a usage error is one line, then the usage, exit status 2), the hub's
// token from the environment, a log on stderr, and a clean stop on Ctrl-C or SIGTERM.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { DEFAULT_HUB_URL } from "../shared/defaults.ts";
import type { AdapterLog } from "./chat-messages.ts";

export interface StandaloneCommand {
  /** Prefixes every line it prints: "voice", "telegram", "slack". */
  name: string;
  usage: string;
}

export function usageError(command: StandaloneCommand, message: string): never {
  process.stderr.write(`${command.name}: ${message}\n\n${command.usage}\n`);
  process.exit(2);
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Parses `argv` with the command's own `options` plus --hub and --help (which prints the usage and exits 0). */
export function parseStandaloneArgs(
  command: StandaloneCommand,
  argv: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): { hub: string; values: Values } {
  let values: Values = {};
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...options, hub: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usageError(command, (error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${command.usage}\n`);
    process.exit(0);
  }
  const hub = String(values.hub ?? DEFAULT_HUB_URL);
  const problem = hubUrlProblem(hub);
  if (problem) usageError(command, problem);
  return { hub, values };
}

/** What is wrong with a --hub value, or null when it is an http(s) URL. */
export function hubUrlProblem(hub: string): string | null {
  if (/^https?:\/\//.test(hub) && URL.canParse(hub)) return null;
  return `--hub must be an http:// or https:// URL, like ${DEFAULT_HUB_URL} (got ${JSON.stringify(hub)})`;
}

export const stderrLog: AdapterLog = {
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`${message}\n`),
  error: (message) => process.stderr.write(`${message}\n`),
};

/** On Ctrl-C or SIGTERM runs `stop` once and exits 0, or 1 if it takes longer than five seconds. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 5000).unref();
    await stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void onSignal());
  process.on("SIGTERM", () => void onSignal());
}
