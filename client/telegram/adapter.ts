// The Telegram adapter: one message per task per allowed chat, kept up to date from the hub's
// pushed context; /status and /task <id>; Approve / Reject buttons that act through the hub.
// Long polling by default (grammy); the API root is configurable so tests use a local fake.
import { Bot, type Context as BotContext, GrammyError } from "grammy";
import type { AdapterLog, ChatMessages, Timers } from "../chat-messages.ts";
import { createChatMessages, RateLimitedError } from "../chat-messages.ts";
import { type HubClient, HubError } from "../hub-client.ts";
import { renderStatus, renderTask, type TelegramView } from "./message.ts";

export interface TelegramAdapterOptions {
  /** A hub client created with `channel: "telegram"`; the adapter connects and closes it. */
  hub: HubClient;
  token: string;
  /** The only chats served: task messages go to each, and updates from any other are ignored. */
  chatIds: number[];
  /** Bot API root, without a trailing slash (default https://api.telegram.org). */
  apiRoot?: string;
  timers?: Timers;
  /** Least time between two edits of one message. */
  minEditIntervalMs?: number;
  /** Seconds a getUpdates long poll waits for an update. */
  pollTimeoutSeconds?: number;
  log: AdapterLog;
}

export interface TelegramAdapter {
  bot: Bot;
  messages: ChatMessages<number>;
  /** Connects to the hub (resolves once its documents arrived) and starts long polling. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

type Action = "approve" | "reject";

export function createTelegramAdapter(options: TelegramAdapterOptions): TelegramAdapter {
  const { hub, log } = options;
  const allowed = new Set(options.chatIds.map(String));
  const bot = new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});

  const messages = createChatMessages<TelegramView, number>({
    destinations: options.chatIds.map(String),
    render: (task, context) => renderTask(task, new Date(timersOf(options).now()), context),
    ...(options.timers ? { timers: options.timers } : {}),
    ...(options.minEditIntervalMs !== undefined ? { minIntervalMs: options.minEditIntervalMs } : {}),
    log: (message) => log.warn(`telegram: ${message}`),
    transport: {
      async send(chatId, view) {
        const sent = await callTelegram(() =>
          bot.api.sendMessage(Number(chatId), view.text, view.buttons ? { reply_markup: keyboard(view) } : {}),
        );
        return sent.message_id;
      },
      async edit(chatId, messageId, view) {
        // No markup in an edit removes the keyboard, which is what a decided task wants.
        await callTelegram(() =>
          bot.api.editMessageText(
            Number(chatId),
            messageId,
            view.text,
            view.buttons ? { reply_markup: keyboard(view) } : {},
          ),
        );
      },
    },
  });

  const unsubscribe = hub.on("change", ({ topic }) => {
    if (topic === "context" && hub.context) messages.sync(hub.context);
  });

  // Only configured chats are served; an update from anywhere else stops here.
  bot.use(async (ctx, next) => {
    const chatId = ctx.chat?.id;
    if (chatId === undefined || !allowed.has(String(chatId))) {
      log.warn(`telegram: ignored an update from chat ${chatId ?? "(none)"}, which is not in telegram.chatIds`);
      return;
    }
    await next();
  });

  bot.command("status", async (ctx) => {
    markActive();
    await ctx.reply(renderStatus(hub.context, hub.health, new Date(timersOf(options).now())));
  });

  bot.command("task", async (ctx) => {
    const taskId = ctx.match.trim();
    if (!taskId) {
      await ctx.reply("Which task? Send /task <id>; /status lists the ids.");
      return;
    }
    const task = [...(hub.context?.activeTasks ?? []), ...(hub.context?.recentCompleted ?? [])].find(
      (t) => t.taskId === taskId,
    );
    markActive(task ? taskId : undefined);
    await ctx.reply(
      task
        ? renderTask(task, new Date(timersOf(options).now()), hub.context).text
        : `No task with id ${taskId}. /status lists the tasks.`,
    );
  });

  // Anything else is still the person using Telegram; in a private chat (or for an unknown
  // command) the bot says what it understands.
  bot.on("message", async (ctx) => {
    markActive();
    if (ctx.chat.type === "private" || ctx.message.text?.startsWith("/")) {
      await ctx.reply("I understand /status (what runs and what waits for you) and /task <id> (one task).");
    }
  });

  bot.on("callback_query:data", async (ctx) => {
    const pressed = parseButton(ctx.callbackQuery.data, ctx, messages);
    if (!pressed) {
      await ctx.answerCallbackQuery({ text: "This button is out of date; send /status for the current tasks." });
      return;
    }
    markActive(pressed.taskId);
    try {
      if (pressed.action === "approve") await hub.approve(pressed.taskId);
      else await hub.reject(pressed.taskId, "rejected from Telegram");
      // The message itself changes when the hub pushes the task's new state.
      await ctx.answerCallbackQuery({ text: pressed.action === "approve" ? "Approved" : "Rejected" });
    } catch (error) {
      const reason = error instanceof HubError ? error.message : "the hub could not be reached";
      log.warn(`telegram: ${pressed.action} of ${pressed.taskId} failed: ${reason}`);
      await ctx.answerCallbackQuery({ text: `Not done: ${reason}`.slice(0, 200), show_alert: true });
    }
  });

  bot.catch((error) => log.error(`telegram: handling an update failed: ${error.message}`));

  function markActive(taskId?: string): void {
    hub.setChannelActive("telegram", taskId).catch((error: Error) => {
      log.warn(`telegram: could not mark the channel active: ${error.message}`);
    });
  }

  let polling: Promise<void> | null = null;
  return {
    bot,
    messages,
    async start() {
      // Commands are answered even while the hub is still out of reach ("try again in a moment").
      const connected = hub.connect();
      polling = bot
        .start({
          allowed_updates: ["message", "callback_query"],
          timeout: options.pollTimeoutSeconds ?? 30,
        })
        .catch((error: Error) => {
          log.error(`telegram: long polling stopped: ${error.message}`);
        });
      await connected;
    },
    async stop() {
      unsubscribe();
      messages.close();
      hub.close();
      // Stopping confirms the last updates with Telegram; an unreachable Telegram must not turn
      // the hub's clean shutdown into a crash.
      if (bot.isRunning()) {
        await bot
          .stop()
          .catch((error: Error) => log.warn(`telegram: stopped without reaching Telegram: ${error.message}`));
      }
      await polling;
    },
  };
}

function timersOf(options: TelegramAdapterOptions): Pick<Timers, "now"> {
  return options.timers ?? { now: () => Date.now() };
}

function keyboard(view: TelegramView) {
  return {
    inline_keyboard: [(view.buttons ?? []).map((button) => ({ text: button.text, callback_data: button.data }))],
  };
}

/** `approve:<taskId>`; a bare `approve` (an id too long for 64 bytes) names the task by its message. */
function parseButton(
  data: string,
  ctx: BotContext,
  messages: ChatMessages<number>,
): { action: Action; taskId: string } | null {
  const [action, ...rest] = data.split(":");
  if (action !== "approve" && action !== "reject") return null;
  if (rest.length > 0) return { action, taskId: rest.join(":") };
  const chatId = ctx.chat?.id;
  const messageId = ctx.callbackQuery?.message?.message_id;
  if (chatId === undefined || messageId === undefined) return null;
  const taskId = messages.taskAt(String(chatId), messageId);
  return taskId ? { action, taskId } : null;
}

/** Runs a Bot API call, turning Telegram's 429 into RateLimitedError and "not modified" into success. */
async function callTelegram<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GrammyError) {
      if (error.error_code === 429) {
        throw new RateLimitedError((error.parameters.retry_after ?? 1) * 1000, error.description);
      }
      // The message already says this: an edit raced a reconnect's identical state.
      if (error.error_code === 400 && /message is not modified/i.test(error.description)) return undefined as T;
    }
    throw error;
  }
}
