// Runs the Slack adapter against a hub URL: started by the hub's entry point when config.json
// enables it, or on its own by `npm run slack`. Checks its settings before anything starts.
import { type SlackSettings, secretFrom } from "../../shared/defaults.ts";
import type { ChatChannelOptions } from "../chat-messages.ts";
import { createNodeHubClient } from "../node-hub-client.ts";
import type { SlackAdapter } from "./adapter.ts";

/** A setting or secret the adapter cannot start without; the message says what to do. */
export class SlackSetupError extends Error {}

const missing = (message: string): never => {
  throw new SlackSetupError(message);
};

/** The bot token (posts and updates messages), from SLACK_BOT_TOKEN. */
export function slackBotToken(env: NodeJS.ProcessEnv): string {
  return (
    secretFrom(env, "SLACK_BOT_TOKEN") ??
    missing(
      "SLACK_BOT_TOKEN is not set: install your Slack app to the workspace and export its Bot User OAuth Token (xoxb-…)",
    )
  );
}

/** The signing secret (verifies Slack's requests to the hub), from SLACK_SIGNING_SECRET. */
export function slackSigningSecret(env: NodeJS.ProcessEnv): string {
  return (
    secretFrom(env, "SLACK_SIGNING_SECRET") ??
    missing("SLACK_SIGNING_SECRET is not set: export the Signing Secret from your Slack app's Basic Information page")
  );
}

export function checkSlackSettings(settings: SlackSettings): void {
  if (settings.channels.length === 0) {
    throw new SlackSetupError(
      'slack.channels is empty: list the channels that get task messages and whose buttons and commands the hub acts on, e.g. ["C0123ABCD"], and invite the app to them',
    );
  }
}

export type SlackChannelOptions = ChatChannelOptions<SlackSettings>;

/**
 * The adapter, checked and configured; `start()` it (it resolves once the hub's documents
 * arrive). Its module (and so @slack/web-api) is evaluated only here: a hub without this
 * channel never runs it.
 */
export async function createSlackChannel(options: SlackChannelOptions): Promise<SlackAdapter> {
  checkSlackSettings(options.settings);
  const { createSlackAdapter } = await import("./adapter.ts");
  return createSlackAdapter({
    hub: createNodeHubClient({ url: options.hubUrl, token: options.hubToken, channel: "slack" }),
    token: options.token,
    channels: options.settings.channels,
    apiUrl: options.settings.apiUrl,
    minEditIntervalMs: options.settings.minEditIntervalMs,
    log: options.log,
  });
}
