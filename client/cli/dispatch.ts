// The `switchboard` dispatcher: finds the command named on the command line, parses its options
// and positionals, connects a hub client, runs it, and turns what went wrong into a message and an
// exit status (2 bad usage, 1 refused by the hub or unreachable).
import { parseArgs } from "node:util";
import { DEFAULT_HUB_URL, hubTokenFrom } from "../../shared/defaults.ts";
import { HubError } from "../hub-client.ts";
import { createNodeHubClient } from "../node-hub-client.ts";
import { hubUrlProblem } from "../standalone.ts";
import { type CliIO, type Command, type CommandContext, type OptionValues, UsageError } from "./command.ts";
import { COMMANDS } from "./commands.ts";

const COMMON_HELP = [
  "Options for every command:",
  `  --hub URL   the hub (default ${DEFAULT_HUB_URL}); the token comes from SWITCHBOARD_TOKEN`,
  "  --json      machine-readable output",
  "  --help      this help",
];

/** A command's name, as an own key of COMMANDS ("constructor" or "toString" is an unknown command). */
const isCommand = (word: string): boolean => Object.hasOwn(COMMANDS, word);

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
    if (sub && isCommand(`task ${sub}`))
      return { name: `task ${sub}`, rest: [...before, ...argv.slice(first + 2)], unknown: null };
    return { name: null, rest: argv, unknown: sub ? `task ${sub}` : "task" };
  }
  if (isCommand(word)) return { name: word, rest: [...before, ...argv.slice(first + 1)], unknown: null };
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
  let parsed: { values: OptionValues; positionals: string[] };
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
  const hubUrl = String(parsed.values.hub ?? io.env.SWITCHBOARD_HUB ?? DEFAULT_HUB_URL);
  const problem = hubUrlProblem(hubUrl);
  if (problem) return usage(problem, name);
  const json = parsed.values.json === true;
  const client = createNodeHubClient({ url: hubUrl, token: hubTokenFrom(io.env), channel: "cli" });
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
