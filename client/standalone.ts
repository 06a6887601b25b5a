// What every channel run on its own (`npm run voice`, `telegram`, `slack`) shares: a command line
// with --hub URL and --help (a usage error is one line, then the usage, exit status 2), the hub's
// token from the environment, a log on stderr, a set-up error as one line and exit status 2, and a
// clean stop on Ctrl-C or SIGTERM.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { DEFAULT_HUB_URL, hubTokenFrom } from "../shared/defaults.ts";
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

const stderrLog: AdapterLog = {
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`${message}\n`),
  error: (message) => process.stderr.write(`${message}\n`),
};

/** On Ctrl-C or SIGTERM runs `stop` once and exits 0, or 1 if it takes longer than five seconds. */
function stopOnSignals(stop: () => Promise<void>): void {
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

/**
 * Runs a channel on its own: `start` it (a set-up error — `isSetupError` — is one line on stderr
 * and exit status 2), print `started` and then "connected to the hub" once `connected` settles,
 * and `stop` it on Ctrl-C or SIGTERM.
 */
export async function runStandalone<Channel>(
  command: StandaloneCommand,
  hub: string,
  channel: {
    /** Given the hub's address, its token from the environment and a log on stderr. */
    start: (connection: { hubUrl: string; hubToken: string | null; log: AdapterLog }) => Promise<Channel>;
    isSetupError: (error: unknown) => boolean;
    started: (channel: Channel) => string;
    connected: (channel: Channel) => Promise<unknown>;
    stop: (channel: Channel) => Promise<void>;
  },
): Promise<void> {
  let running: Channel;
  try {
    running = await channel.start({ hubUrl: hub, hubToken: hubTokenFrom(process.env), log: stderrLog });
  } catch (error) {
    if (channel.isSetupError(error)) {
      process.stderr.write(`${command.name}: ${(error as Error).message}\n`);
      process.exit(2);
    }
    throw error;
  }
  process.stdout.write(`${command.name}: ${channel.started(running)}\n`);
  void channel.connected(running).then(() => process.stdout.write(`${command.name}: connected to the hub\n`));
  stopOnSignals(() => channel.stop(running));
}
