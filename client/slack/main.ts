// `npm run slack -- --hub URL --channel ID [--channel ID …] [--api-url URL]`: the Slack adapter on its own.
import { parseArgs } from "node:util";
import { createSlackChannel, SLACK_DEFAULTS, type SlackSettings, SlackSetupError, slackBotToken } from "./channel.ts";

const USAGE = `Usage: npm run slack -- --hub URL --channel ID [--channel ID ...] [--api-url URL]

Runs the Slack adapter against a running hub: one message per task in each channel, updated as
the task moves, with Approve / Reject buttons while it waits. Slash commands and button presses
go to the hub itself (POST /api/slack/commands and /api/slack/interactions; see README, Slack).
The bot token comes from SLACK_BOT_TOKEN, the hub's token (if any) from SWITCHBOARD_TOKEN.`;

function usageError(message: string): never {
  process.stderr.write(`slack: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv: string[]): { hub: string; settings: SlackSettings } {
  let values: { hub?: string; channel?: string[]; "api-url"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        hub: { type: "string" },
        channel: { type: "string", multiple: true },
        "api-url": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const hub = values.hub ?? "http://127.0.0.1:7433";
  if (!/^https?:\/\//.test(hub) || !URL.canParse(hub)) {
    usageError(`--hub must be an http:// or https:// URL, like http://127.0.0.1:7433 (got ${JSON.stringify(hub)})`);
  }
  return {
    hub,
    settings: { ...SLACK_DEFAULTS, channels: values.channel ?? [], apiUrl: values["api-url"] ?? SLACK_DEFAULTS.apiUrl },
  };
}

const { hub, settings } = parse(process.argv.slice(2));
const log = {
  info: (message: string) => process.stderr.write(`${message}\n`),
  warn: (message: string) => process.stderr.write(`${message}\n`),
  error: (message: string) => process.stderr.write(`${message}\n`),
};
let adapter: ReturnType<typeof createSlackChannel>;
try {
  adapter = createSlackChannel({
    hubUrl: hub,
    hubToken: process.env.SWITCHBOARD_TOKEN?.trim() || null,
    token: slackBotToken(process.env),
    settings,
    log,
  });
} catch (error) {
  if (error instanceof SlackSetupError) {
    process.stderr.write(`slack: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
process.stdout.write(`slack: posting to ${settings.channels.join(", ")}, following the hub at ${hub}\n`);
void adapter.start().then(() => process.stdout.write("slack: connected to the hub\n"));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const forced = setTimeout(() => process.exit(1), 5000);
  forced.unref();
  await adapter.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
