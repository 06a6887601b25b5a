// `npm run telegram -- --hub URL --chat ID [--chat ID …] [--user ID …] [--api-root URL]`: the Telegram adapter on its own.
import { TELEGRAM_DEFAULTS, type TelegramSettings } from "../../shared/defaults.ts";
import { parseStandaloneArgs, runStandalone, usageError } from "../standalone.ts";
import { createTelegramChannel, TelegramSetupError, telegramToken } from "./channel.ts";

const command = {
  name: "telegram",
  usage: `Usage: npm run telegram -- --hub URL --chat ID [--chat ID ...] [--user ID ...] [--api-root URL]

Runs the Telegram bot against a running hub: one message per task in each chat, edited as the
task moves, Approve / Reject buttons, /status and /task <id>. Long polling; no public URL needed.
--user limits who may act in a group chat (a private chat is its own person's).
The bot token comes from TELEGRAM_BOT_TOKEN, the hub's token (if any) from SWITCHBOARD_TOKEN.`,
};

function parse(argv: string[]): { hub: string; settings: TelegramSettings } {
  const { hub, values } = parseStandaloneArgs(command, argv, {
    chat: { type: "string", multiple: true },
    user: { type: "string", multiple: true },
    "api-root": { type: "string" },
  });
  const numeric = (flag: string, what: string) =>
    ((values[flag] ?? []) as string[]).map((id) => {
      if (!/^-?\d{1,20}$/.test(id))
        usageError(command, `--${flag} must be a numeric ${what} id (got ${JSON.stringify(id)})`);
      return Number(id);
    });
  const chatIds = numeric("chat", "chat");
  const userIds = numeric("user", "user");
  const apiRoot = String(values["api-root"] ?? TELEGRAM_DEFAULTS.apiRoot).replace(/\/+$/, "");
  return { hub, settings: { ...TELEGRAM_DEFAULTS, chatIds, userIds, apiRoot } };
}

const { hub, settings } = parse(process.argv.slice(2));
await runStandalone(command, hub, {
  start: (connection) => createTelegramChannel({ ...connection, token: telegramToken(process.env), settings }),
  isSetupError: (error) => error instanceof TelegramSetupError,
  started: () => `serving chat(s) ${settings.chatIds.join(", ")}, following the hub at ${hub}`,
  connected: (adapter) => adapter.start(),
  stop: (adapter) => adapter.stop(),
});
