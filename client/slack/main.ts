// `npm run slack -- --hub URL --channel ID [--channel ID …] [--api-url URL]`: the Slack adapter on its own.
import { SLACK_DEFAULTS, type SlackSettings } from "../../shared/defaults.ts";
import { parseStandaloneArgs, runStandalone } from "../standalone.ts";
import { createSlackChannel, SlackSetupError, slackBotToken } from "./channel.ts";

const command = {
  name: "slack",
  usage: `Usage: npm run slack -- --hub URL --channel ID [--channel ID ...] [--api-url URL]

Runs the Slack adapter against a running hub: one message per task in each channel, updated as
the task moves, with Approve / Reject buttons while it waits. Slash commands and button presses
go to the hub itself (POST /api/slack/commands and /api/slack/interactions; see docs/channels.md, Slack).
The bot token comes from SLACK_BOT_TOKEN, the hub's token (if any) from SWITCHBOARD_TOKEN.`,
};

function parse(argv: string[]): { hub: string; settings: SlackSettings } {
  const { hub, values } = parseStandaloneArgs(command, argv, {
    channel: { type: "string", multiple: true },
    "api-url": { type: "string" },
  });
  return {
    hub,
    settings: {
      ...SLACK_DEFAULTS,
      channels: (values.channel ?? []) as string[],
      apiUrl: String(values["api-url"] ?? SLACK_DEFAULTS.apiUrl),
    },
  };
}

const { hub, settings } = parse(process.argv.slice(2));
await runStandalone(command, hub, {
  start: (connection) => createSlackChannel({ ...connection, token: slackBotToken(process.env), settings }),
  isSetupError: (error) => error instanceof SlackSetupError,
  started: () => `posting to ${settings.channels.join(", ")}, following the hub at ${hub}`,
  connected: (adapter) => adapter.start(),
  stop: (adapter) => adapter.stop(),
});
