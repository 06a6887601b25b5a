// `npm run telegram -- --hub URL --chat ID [--chat ID …] [--api-root URL]`: the Telegram adapter on its own.
import { parseArgs } from "node:util";
import {
  createTelegramChannel,
  TELEGRAM_DEFAULTS,
  type TelegramSettings,
  TelegramSetupError,
  telegramToken,
} from "./channel.ts";

const USAGE = `Usage: npm run telegram -- --hub URL --chat ID [--chat ID ...] [--api-root URL]

Runs the Telegram bot against a running hub: one message per task in each chat, edited as the
task moves, Approve / Reject buttons, /status and /task <id>. Long polling; no public URL needed.
The bot token comes from TELEGRAM_BOT_TOKEN, the hub's token (if any) from SWITCHBOARD_TOKEN.`;

function usageError(message: string): never {
  process.stderr.write(`telegram: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv: string[]): { hub: string; settings: TelegramSettings } {
  let values: { hub?: string; chat?: string[]; "api-root"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        hub: { type: "string" },
        chat: { type: "string", multiple: true },
        "api-root": { type: "string" },
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
  const chatIds = (values.chat ?? []).map((chat) => {
    if (!/^-?\d{1,20}$/.test(chat)) usageError(`--chat must be a numeric chat id (got ${JSON.stringify(chat)})`);
    return Number(chat);
  });
  const apiRoot = (values["api-root"] ?? TELEGRAM_DEFAULTS.apiRoot).replace(/\/+$/, "");
  return { hub, settings: { ...TELEGRAM_DEFAULTS, chatIds, apiRoot } };
}

const { hub, settings } = parse(process.argv.slice(2));
const log = {
  info: (message: string) => process.stderr.write(`${message}\n`),
  warn: (message: string) => process.stderr.write(`${message}\n`),
  error: (message: string) => process.stderr.write(`${message}\n`),
};
let adapter: ReturnType<typeof createTelegramChannel>;
try {
  adapter = createTelegramChannel({
    hubUrl: hub,
    hubToken: process.env.SWITCHBOARD_TOKEN?.trim() || null,
    token: telegramToken(process.env),
    settings,
    log,
  });
} catch (error) {
  if (error instanceof TelegramSetupError) {
    process.stderr.write(`telegram: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
process.stdout.write(`telegram: serving chat(s) ${settings.chatIds.join(", ")}, following the hub at ${hub}\n`);
void adapter.start().then(() => process.stdout.write("telegram: connected to the hub\n"));

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
