// Runs the Telegram adapter against a hub URL: started by the hub's entry point when config.json
// enables it, or on its own by `npm run telegram`. Checks its settings before anything starts.
import { secretFrom, type TelegramSettings } from "../../shared/defaults.ts";
import type { ChatChannelOptions } from "../chat-messages.ts";
import { createNodeHubClient } from "../node-hub-client.ts";
import type { TelegramAdapter } from "./adapter.ts";

/** A setting or secret the adapter cannot start without; the message says what to do. */
export class TelegramSetupError extends Error {}

/** The bot token from TELEGRAM_BOT_TOKEN, or a one-line error saying how to get one. */
export function telegramToken(env: NodeJS.ProcessEnv): string {
  const token = secretFrom(env, "TELEGRAM_BOT_TOKEN");
  if (token) return token;
  throw new TelegramSetupError(
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram and export the token it gives you",
  );
}

export function checkTelegramSettings(settings: TelegramSettings): void {
  if (settings.chatIds.length === 0) {
    throw new TelegramSetupError(
      "telegram.chatIds is empty: list the chat ids the bot may serve (see docs/channels.md, Telegram, for how to find yours)",
    );
  }
}

export type TelegramChannelOptions = ChatChannelOptions<TelegramSettings>;

/**
 * The adapter, checked and configured; `start()` it (it resolves once the hub's documents
 * arrive). Its module (and so grammy) is evaluated only here: a hub without this
 * channel never runs it.
 */
export async function createTelegramChannel(options: TelegramChannelOptions): Promise<TelegramAdapter> {
  checkTelegramSettings(options.settings);
  const { createTelegramAdapter } = await import("./adapter.ts");
  return createTelegramAdapter({
    hub: createNodeHubClient({ url: options.hubUrl, token: options.hubToken, channel: "telegram" }),
    token: options.token,
    chatIds: options.settings.chatIds,
    userIds: options.settings.userIds,
    apiRoot: options.settings.apiRoot,
    minEditIntervalMs: options.settings.minEditIntervalMs,
    pollTimeoutSeconds: options.settings.pollTimeoutSeconds,
    log: options.log,
  });
}
