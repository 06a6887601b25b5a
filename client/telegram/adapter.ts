// The Telegram adapter: one message per task per allowed chat, kept up to date from the hub's
// pushed context; /status and /task <id>; Approve / Reject buttons that act through the hub.
// Long polling by default (grammy); the API root is configurable so tests use a local fake.
import { Bot, type Context as BotContext, GrammyError, InputFile } from "grammy";
import type { Clock } from "../../shared/clock.ts";
import { TELEGRAM_DEFAULTS } from "../../shared/defaults.ts";
import { type AnswerFeed, answerFileName, createAnswerFeed } from "../answer-feed.ts";
import type { AdapterLog, ChatMessages } from "../chat-messages.ts";
import { createChatMessages, RateLimitedError } from "../chat-messages.ts";
import { followHub } from "../follow-hub.ts";
import { type HubClient, HubError } from "../hub-client.ts";
import { parseChatStart, refusalReason, sendFollowUp, startTask as startTaskIn } from "../intake.ts";
import { answerHead, answerHeading, followUpSentence, notTakenSentence, startedSentence } from "../phrasing.ts";
import { usageMessage } from "../usage-view.ts";
import {
  approvalDigest,
  clip,
  type PressedButton,
  parseButtonData,
  renderStatus,
  renderTask,
  TEXT_LIMIT,
  type TelegramView,
} from "./message.ts";
import { telegramAccess } from "./who-may-act.ts";

export interface TelegramAdapterOptions {
  /** A hub client created with `channel: "telegram"`; the adapter connects and closes it. */
  hub: HubClient;
  token: string;
  /** The only chats served: task messages go to each, and updates from any other are ignored. */
  chatIds: number[];
  /** When not empty, only these people may act in a group chat (a private chat is its own person's). */
  userIds?: number[];
  /** Bot API root, without a trailing slash (default https://api.telegram.org). */
  apiRoot?: string;
  timers?: Clock;
  /** Least time between two edits of one message. */
  minEditIntervalMs?: number;
  /** Seconds a getUpdates long poll waits for an update. */
  pollTimeoutSeconds?: number;
  log: AdapterLog;
}

export interface TelegramAdapter {
  bot: Bot;
  messages: ChatMessages<number>;
  answers: AnswerFeed;
  /** Connects to the hub (resolves once its documents arrived) and starts long polling. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Answers remembered so that a reply to one continues its task. */
const MAX_ANSWER_MESSAGES = 2000;
/** Telegram refuses a caption over 1024 characters. */
const CAPTION_LIMIT = 1024;

/** Chats and people outside the allowlists remembered for log-once; past this many, further ones are not logged. */
const MAX_STRANGERS_LOGGED = 1000;
/** Telegram shows at most 200 characters in a button press's answer. */
const CALLBACK_ANSWER_LIMIT = 200;

export function createTelegramAdapter(options: TelegramAdapterOptions): TelegramAdapter {
  const { hub, log } = options;
  const access = { chatIds: options.chatIds, userIds: options.userIds ?? [] };
  // Named under an approval too long for one message: the whole text is on the dashboard.
  const dashboardUrl = new URL("/", hub.options.url).toString();
  const bot = new Bot(options.token, options.apiRoot ? { client: { apiRoot: options.apiRoot } } : {});

  const messages = createChatMessages<TelegramView, number>({
    destinations: options.chatIds.map(String),
    render: (task, context) => renderTask(task, new Date(timersOf(options).now()), context, { dashboardUrl }),
    timers: options.timers,
    minIntervalMs: options.minEditIntervalMs,
    log: (message) => log.warn(`telegram: ${message}`),
    transport: {
      async send(chatId, view) {
        const sent = await callTelegram(() => bot.api.sendMessage(Number(chatId), view.text, formatting(view)));
        return sent.message_id;
      },
      async edit(chatId, messageId, view) {
        // No markup in an edit removes the keyboard, which is what a decided task wants.
        await callTelegram(() => bot.api.editMessageText(Number(chatId), messageId, view.text, formatting(view)));
      },
    },
  });

  /** Answers the bot sent, by `chatId:messageId`, so a reply to an answer continues its task. */
  const answerMessages = new Map<string, string>();

  // Each step's answer goes to every chat as a reply to the task's message; a long one as its
  // first part in text and the whole as a Markdown document.
  const answers = createAnswerFeed({
    hub,
    log: (message) => log.warn(`telegram: ${message}`),
    async deliver(task, entry) {
      const heading = answerHeading(task, entry);
      const { head, cut } = answerHead(entry.answer, TEXT_LIMIT - heading.length - 2);
      for (const chatId of options.chatIds) {
        const taskMessage = messages.refOf(task.taskId, String(chatId));
        const reply =
          taskMessage === null
            ? {}
            : { reply_parameters: { message_id: taskMessage, allow_sending_without_reply: true } };
        const sent = await callTelegram(() => bot.api.sendMessage(chatId, `${heading}\n\n${head}`, reply));
        rememberAnswer(chatId, sent.message_id, task.taskId);
        if (cut) {
          const file = new InputFile(Buffer.from(entry.answer, "utf8"), answerFileName(task.taskId, entry.step));
          const document = await callTelegram(() =>
            bot.api.sendDocument(chatId, file, {
              ...reply,
              caption: clip(`${heading} the whole answer`, CAPTION_LIMIT),
            }),
          );
          rememberAnswer(chatId, document.message_id, task.taskId);
        }
      }
    },
  });

  function rememberAnswer(chatId: number, messageId: number, taskId: string): void {
    answerMessages.set(`${chatId}:${messageId}`, taskId);
    // Bounded: the oldest answers stop continuing their task by reply (the task message still does).
    if (answerMessages.size > MAX_ANSWER_MESSAGES) answerMessages.delete(answerMessages.keys().next().value as string);
  }

  // A backend resting for a used-up limit, and back again: told once per change, to every chat.
  const stopFollowing = followHub(hub, messages, {
    now: () => timersOf(options).now(),
    announce: (text) => {
      for (const chatId of options.chatIds) {
        callTelegram(() => bot.api.sendMessage(chatId, `${text}.`)).catch((error: Error) =>
          log.warn(`telegram: could not announce "${text}" to chat ${chatId}: ${error.message}`),
        );
      }
    },
  });

  // Only configured chats, and in them only the people allowed to act, are served; any other
  // update (a message, a button press) stops here unanswered, logged once per chat or person so
  // a stranger's flood cannot flood the log too.
  const strangersLogged = new Set<string>();
  bot.use(async (ctx, next) => {
    const origin = { chatId: ctx.chat?.id, chatType: ctx.chat?.type, userId: ctx.from?.id };
    const decision = telegramAccess(access, origin);
    if (!decision.ok) {
      const who =
        decision.refused === "chat" ? `chat ${origin.chatId ?? "(none)"}` : `user ${origin.userId ?? "(none)"}`;
      if (!strangersLogged.has(who) && strangersLogged.size < MAX_STRANGERS_LOGGED) {
        strangersLogged.add(who);
        const list = decision.refused === "chat" ? "telegram.chatIds" : "telegram.userIds";
        const where = decision.refused === "chat" ? "" : ` in chat ${origin.chatId}`;
        log.warn(`telegram: ignored updates from ${who}${where}, which is not in ${list} (logged once)`);
      }
      return;
    }
    await next();
  });

  bot.command("status", async (ctx) => {
    markActive();
    await ctx.reply(renderStatus(hub.context, hub.health, new Date(timersOf(options).now())));
  });

  bot.command("usage", async (ctx) => {
    markActive();
    try {
      await ctx.reply(usageMessage(await hub.getUsage(), timersOf(options).now()));
    } catch (error) {
      const reason = error instanceof HubError ? error.message : "the hub could not be reached";
      await ctx.reply(`Usage is not available now: ${reason}. Try again in a moment.`);
    }
  });

  bot.command("task", async (ctx) => {
    const taskId = ctx.match.trim();
    if (!taskId) {
      await ctx.reply("Which task? Send /task <id>; /status lists the ids.");
      return;
    }
    const task = findTask(taskId);
    markActive(task ? taskId : undefined);
    if (!task) {
      await ctx.reply(`No task with id ${taskId}. /status lists the tasks.`);
      return;
    }
    const view = renderTask(task, new Date(timersOf(options).now()), hub.context, { dashboardUrl });
    await ctx.reply(view.text, view.entities ? { entities: view.entities } : {});
  });

  bot.command("new", async (ctx) => {
    const text = ctx.match.trim();
    if (!text) {
      await ctx.reply(HELP.newNeedsText);
      return;
    }
    await startTask(ctx, text);
  });

  // Plain text is work: a reply to a task's message (or to an answer) continues that task, any
  // other text starts a new one. An unknown command gets the list of what the bot understands.
  bot.on("message", async (ctx) => {
    const text = ctx.message.text?.trim();
    if (!text || text.startsWith("/")) {
      markActive();
      await ctx.reply(HELP.commands);
      return;
    }
    const repliedTo = ctx.message.reply_to_message?.message_id;
    const taskId = repliedTo === undefined ? null : taskOfMessage(ctx.chat.id, repliedTo);
    if (taskId) await followUp(ctx, taskId, text);
    else await startTask(ctx, text);
  });

  // A button acts on the task of the message it sits on (never on an id the press carries), and
  // only on the step and tool call it showed: the hub refuses (409) anything else, and says why.
  bot.on("callback_query:data", async (ctx) => {
    const messageId = ctx.callbackQuery.message?.message_id;
    const taskId = messageId === undefined ? null : messages.taskAt(String(ctx.chat?.id), messageId);
    const pressed = parseButtonData(ctx.callbackQuery.data);
    const approvalId = pressed && taskId ? approvalIdOf(pressed, taskId) : undefined;
    if (!pressed || !taskId || approvalId === null) {
      await ctx.answerCallbackQuery({
        text: "This button is out of date; nothing was done. /status shows what waits now.",
      });
      return;
    }
    try {
      // A decision marks the channel active in its own change; a refused one is marked below.
      if (pressed.action === "approve") await hub.approve(taskId, pressed.step, approvalId);
      else await hub.reject(taskId, "rejected from Telegram", pressed.step, approvalId);
      // The message itself changes when the hub pushes the task's new state.
      await ctx.answerCallbackQuery({ text: pressed.action === "approve" ? "Approved" : "Rejected" });
    } catch (error) {
      const reason = error instanceof HubError ? error.message : "the hub could not be reached";
      log.warn(`telegram: ${pressed.action} of ${taskId} failed: ${reason}`);
      markActive(taskId);
      await ctx.answerCallbackQuery({ text: clip(`Not done: ${reason}`, CALLBACK_ANSWER_LIMIT), show_alert: true });
    }
  });

  /**
   * The tool call a press names: its id as carried, or the waiting call's when the carried digest
   * is that call's; null when the digest names another (older) call; undefined for a step.
   */
  function approvalIdOf(pressed: PressedButton, taskId: string): string | null | undefined {
    if (!pressed.approval) return undefined;
    if ("id" in pressed.approval) return pressed.approval.id;
    const waiting = findTask(taskId)?.awaitingApproval?.id;
    return waiting && approvalDigest(waiting) === pressed.approval.digest ? waiting : null;
  }

  bot.catch((error) => log.error(`telegram: handling an update failed: ${error.message}`));

  /**
   * Hands the text to the router as a new task; the task's own message follows from the hub. A
   * start that names its workspace ("in workspace site: …") is answered with where it started.
   */
  async function startTask(ctx: BotContext, typed: string): Promise<void> {
    const { text, workspace } = parseChatStart(typed);
    if (workspace !== undefined && !text) {
      await ctx.reply(HELP.workspaceNeedsText(workspace), replyTo(ctx));
      return;
    }
    try {
      const { taskId } = await startTaskIn(hub, text, "telegram", workspace === undefined ? {} : { workspace });
      if (workspace !== undefined) {
        const started = `${startedSentence({ description: text, workspace })} (${taskId}).`;
        await ctx.reply(clip(started, TEXT_LIMIT), replyTo(ctx));
      }
    } catch (error) {
      log.warn(`telegram: could not start a task: ${refusalReason(error)}`);
      await ctx.reply(clip(`${notTakenSentence("start", refusalReason(error))}.`, TEXT_LIMIT), replyTo(ctx));
    }
  }

  /** A follow-up in the task's conversation; the answer comes back as a reply to the task's message. */
  async function followUp(ctx: BotContext, taskId: string, text: string): Promise<void> {
    try {
      const { step } = await sendFollowUp(hub, taskId, text, "telegram");
      await ctx.reply(`${followUpSentence(findTask(taskId) ?? { description: taskId }, step)}.`, replyTo(ctx));
    } catch (error) {
      log.warn(`telegram: could not add a follow-up to ${taskId}: ${refusalReason(error)}`);
      await ctx.reply(clip(`${notTakenSentence("follow-up", refusalReason(error))}.`, TEXT_LIMIT), replyTo(ctx));
    }
  }

  /** The task a message belongs to: its task message, or an answer the bot sent about it. */
  function taskOfMessage(chatId: number, messageId: number): string | null {
    return messages.taskAt(String(chatId), messageId) ?? answerMessages.get(`${chatId}:${messageId}`) ?? null;
  }

  function findTask(taskId: string) {
    return [...(hub.context?.activeTasks ?? []), ...(hub.context?.recentCompleted ?? [])].find(
      (t) => t.taskId === taskId,
    );
  }

  function markActive(taskId?: string): void {
    hub.setChannelActive("telegram", taskId).catch((error: Error) => {
      log.warn(`telegram: could not mark the channel active: ${error.message}`);
    });
  }

  let polling: Promise<void> | null = null;
  return {
    bot,
    messages,
    answers,
    async start() {
      // Commands are answered even while the hub is still out of reach ("try again in a moment").
      const connected = hub.connect();
      polling = bot
        .start({
          allowed_updates: ["message", "callback_query"],
          timeout: options.pollTimeoutSeconds ?? TELEGRAM_DEFAULTS.pollTimeoutSeconds,
        })
        .catch((error: Error) => {
          log.error(`telegram: long polling stopped: ${error.message}`);
        });
      await connected;
    },
    async stop() {
      stopFollowing();
      answers.stop();
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

/** What the bot says it understands. */
const HELP = {
  commands:
    "Send any text to start a task, or reply to a task's message to add to it. /new <text> starts a task; /new in workspace site: <text> starts it in the workspace named site. /status shows what runs and what waits for you, /task <id> shows one task, /usage shows runs and cost per backend.",
  newNeedsText:
    "What should the task do? Send /new followed by the task, e.g. /new summarise the report, or /new in workspace site: fix the failing test.",
  workspaceNeedsText: (workspace: string) =>
    `What should the task do in workspace ${workspace}? Send /new in workspace ${workspace}: followed by the task.`,
};

/** Sends a reply as a reply to the person's message, so a busy chat shows what it answers. */
function replyTo(ctx: BotContext) {
  const messageId = ctx.message?.message_id;
  return messageId === undefined
    ? {}
    : { reply_parameters: { message_id: messageId, allow_sending_without_reply: true } };
}

function timersOf(options: TelegramAdapterOptions): Pick<Clock, "now"> {
  return options.timers ?? { now: () => Date.now() };
}

/** The code block (entities) and the buttons of a task's message; none of either removes them in an edit. */
function formatting(view: TelegramView) {
  return {
    ...(view.entities ? { entities: view.entities } : {}),
    ...(view.buttons
      ? {
          reply_markup: {
            inline_keyboard: [view.buttons.map((button) => ({ text: button.text, callback_data: button.data }))],
          },
        }
      : {}),
  };
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
