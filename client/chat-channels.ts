// The Telegram and Slack channels as config.json enables them next to the hub: every token and
// setting checked before anything listens, adapters started once the hub does, stopped before it closes.

import type { SlackSettings, TelegramSettings } from "../shared/defaults.ts";
import type { SlackThreadReply } from "../shared/slack-thread-reply.ts";
import type { AdapterLog } from "./chat-messages.ts";
import {
  checkSlackSettings,
  createSlackChannel,
  SlackSetupError,
  slackBotToken,
  slackSigningSecret,
} from "./slack/channel.ts";
import { checkTelegramSettings, createTelegramChannel, TelegramSetupError, telegramToken } from "./telegram/channel.ts";

export interface ChatChannelsConfig {
  telegram: TelegramSettings & { enabled: boolean };
  slack: SlackSettings & { enabled: boolean; startAdapter: boolean };
}

export interface PreparedChatChannels {
  /** Set when the hub must serve Slack's requests (slack.enabled). */
  slackSigningSecret: string | null;
  start(hubUrl: string, hubToken: string | null, log: AdapterLog): Promise<RunningChatChannels>;
}

export interface RunningChatChannels {
  /** One line per running adapter, for the start-up banner. */
  lines: string[];
  /** Hands a Slack thread reply (from the hub's events endpoint) to the Slack adapter, if it runs here. */
  slackThreadReply(reply: SlackThreadReply): void;
  stop(): Promise<void>;
}

export const isChatSetupError = (error: unknown): error is Error =>
  error instanceof TelegramSetupError || error instanceof SlackSetupError;

/** Throws a setup error (one line, what to do) when an enabled channel lacks a token or setting. */
export function prepareChatChannels(config: ChatChannelsConfig, env: NodeJS.ProcessEnv): PreparedChatChannels {
  const telegram = config.telegram.enabled ? telegramToken(env) : null;
  if (config.telegram.enabled) checkTelegramSettings(config.telegram);
  const signingSecret = config.slack.enabled ? slackSigningSecret(env) : null;
  const slackAdapter = config.slack.enabled && config.slack.startAdapter;
  const slack = slackAdapter ? slackBotToken(env) : null;
  // The hub's Slack endpoint acts only on requests from slack.channels, so they are needed with or without the adapter.
  if (config.slack.enabled) checkSlackSettings(config.slack);

  return {
    slackSigningSecret: signingSecret,
    async start(hubUrl, hubToken, log) {
      const [telegramAdapter, slackAdapter] = await Promise.all([
        telegram ? createTelegramChannel({ hubUrl, hubToken, token: telegram, settings: config.telegram, log }) : null,
        slack ? createSlackChannel({ hubUrl, hubToken, token: slack, settings: config.slack, log }) : null,
      ]);
      const adapters = [telegramAdapter, slackAdapter].filter((adapter) => adapter !== null);
      await Promise.all(adapters.map((adapter) => adapter.start()));
      const lines: string[] = [];
      if (telegram) lines.push(`telegram bot serving chat(s) ${config.telegram.chatIds.join(", ")}`);
      if (slack) lines.push(`slack adapter posting to ${config.slack.channels.join(", ")}`);
      if (signingSecret)
        lines.push(
          `slack commands, buttons and events at ${hubUrl}/api/slack/commands, /api/slack/interactions and /api/slack/events`,
        );
      return {
        lines,
        slackThreadReply(reply) {
          if (slackAdapter) void slackAdapter.threadReply(reply);
        },
        async stop() {
          await Promise.all(adapters.map((adapter) => adapter.stop()));
        },
      };
    },
  };
}
