// The Slack adapter: one Block Kit message per task per configured channel, posted with
// chat.postMessage and kept up to date with chat.update from the hub's pushed context. Button
// presses and slash commands go to the hub's own Slack endpoint (server/slack-endpoint.ts),
// which acts through the hub; the resulting change comes back here and updates the message.

import { ErrorCode, LogLevel, WebClient } from "@slack/web-api";
import type { Clock } from "../../shared/clock.ts";
import type { SlackThreadReply } from "../../shared/slack-thread-reply.ts";
import { type AnswerFeed, answerFileName, createAnswerFeed } from "../answer-feed.ts";
import type { AdapterLog, ChatMessages } from "../chat-messages.ts";
import { createChatMessages, RateLimitedError } from "../chat-messages.ts";
import { followHub } from "../follow-hub.ts";
import type { HubClient } from "../hub-client.ts";
import { refusalReason, sendFollowUp } from "../intake.ts";
import { answerHead, answerHeading, followUpSentence, notTakenSentence } from "../phrasing.ts";
import { escapeText, renderTask, type SlackView } from "./blocks.ts";

/** An answer longer than this goes as a file too (Slack advises at most 4,000 characters a message). */
const ANSWER_TEXT_LIMIT = 3000;

export interface SlackAdapterOptions {
  /** A hub client created with `channel: "slack"`; the adapter connects and closes it. */
  hub: HubClient;
  token: string;
  /** Channels (ids like C0123, or #names) that get a message per task. */
  channels: string[];
  /** Web API root (default https://slack.com/api/). */
  apiUrl?: string;
  timers?: Clock;
  /** Least time between two updates of one message. */
  minEditIntervalMs?: number;
  log: AdapterLog;
}

/** Slack answers an update only with the channel's id, which postMessage returns. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface SlackAdapter {
  client: WebClient;
  messages: ChatMessages<SlackMessageRef>;
  answers: AnswerFeed;
  /** A person's reply in a thread (from the hub's Events API endpoint): a follow-up when the thread is a task's. */
  threadReply(reply: SlackThreadReply): Promise<void>;
  /** The task whose message starts the thread `threadTs` in channel id `channel`, if any. */
  taskOfThread(channel: string, threadTs: string): string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const { hub, log } = options;
  const now = () => new Date((options.timers ?? { now: () => Date.now() }).now());
  const client = new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    // Rate limits are waited out by the message scheduler (on the injected clock, with the
    // newest state), not by the client sleeping on a stale one.
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });

  // Named under an approval too long for one message: the whole text is on the dashboard.
  const dashboardUrl = new URL("/", hub.options.url).toString();
  const messages = createChatMessages<SlackView, SlackMessageRef>({
    destinations: options.channels,
    render: (task, context) => renderTask(task, now(), context, { dashboardUrl }),
    timers: options.timers,
    minIntervalMs: options.minEditIntervalMs,
    log: (message) => log.warn(`slack: ${message}`),
    transport: {
      async send(channel, view) {
        const posted = await callSlack(() =>
          client.chat.postMessage({ channel, text: view.text, blocks: view.blocks }),
        );
        if (!posted.channel || !posted.ts) throw new Error("chat.postMessage answered without channel and ts");
        return { channel: posted.channel, ts: posted.ts };
      },
      async edit(_channel, ref, view) {
        await callSlack(() =>
          client.chat.update({ channel: ref.channel, ts: ref.ts, text: view.text, blocks: view.blocks }),
        );
      },
    },
  });

  // Each step's answer goes into the thread of the task's message in every channel; a long one
  // as its first part in text and the whole as a Markdown file (files.uploadV2) in the thread.
  const answers = createAnswerFeed({
    hub,
    log: (message) => log.warn(`slack: ${message}`),
    async deliver(task, entry) {
      const heading = answerHeading(task, entry);
      const { head, cut } = answerHead(entry.answer, ANSWER_TEXT_LIMIT);
      for (const destination of options.channels) {
        const ref = messages.refOf(task.taskId, destination);
        const where = ref ? { channel: ref.channel, thread_ts: ref.ts } : { channel: destination };
        await callSlack(() => client.chat.postMessage({ ...where, text: `*${escapeText(heading)}*\n${head}` }));
        if (cut) {
          const file = {
            file: Buffer.from(entry.answer, "utf8"),
            filename: answerFileName(task.taskId, entry.step),
            title: `${heading} the whole answer`,
          };
          await callSlack(() =>
            client.filesUploadV2(
              ref ? { ...file, channel_id: ref.channel, thread_ts: ref.ts } : { ...file, channel_id: destination },
            ),
          );
        }
      }
    },
  });

  // A backend resting for a used-up limit, and back again: told once per change, in every channel.
  const stopFollowing = followHub(hub, messages, {
    now,
    announce: (text) => {
      for (const channel of options.channels) {
        callSlack(() => client.chat.postMessage({ channel, text: `${text}.` })).catch((error: Error) =>
          log.warn(`slack: could not announce "${text}" in ${channel}: ${error.message}`),
        );
      }
    },
  });

  function taskOfThread(channel: string, threadTs: string): string | null {
    for (const destination of options.channels) {
      const taskId = messages.taskAt(destination, { channel, ts: threadTs });
      if (taskId) return taskId;
    }
    return null;
  }

  async function postInThread(channel: string, threadTs: string, text: string): Promise<void> {
    await callSlack(() => client.chat.postMessage({ channel, thread_ts: threadTs, text }));
  }

  const strangerThreadsLogged = new Set<string>();

  async function threadReply(reply: SlackThreadReply): Promise<void> {
    const taskId = taskOfThread(reply.channel, reply.threadTs);
    if (!taskId) {
      // Someone else's thread: a person talking to people. Not ours to answer; logged once per channel.
      if (!strangerThreadsLogged.has(reply.channel) && strangerThreadsLogged.size < 1000) {
        strangerThreadsLogged.add(reply.channel);
        log.info(`slack: ignored thread replies in ${reply.channel} that answer no task message (logged once)`);
      }
      return;
    }
    let text: string;
    try {
      const { step } = await sendFollowUp(hub, taskId, reply.text, "slack");
      text = `${followUpSentence(findTask(taskId) ?? { description: taskId }, step)}.`;
    } catch (error) {
      log.warn(`slack: could not add a follow-up to ${taskId}: ${refusalReason(error)}`);
      text = `${notTakenSentence("follow-up", refusalReason(error))}.`;
    }
    await postInThread(reply.channel, reply.threadTs, text).catch((error: Error) =>
      log.warn(`slack: could not answer in the thread of ${taskId}: ${error.message}`),
    );
  }

  function findTask(taskId: string) {
    return [...(hub.context?.activeTasks ?? []), ...(hub.context?.recentCompleted ?? [])].find(
      (t) => t.taskId === taskId,
    );
  }

  return {
    client,
    messages,
    answers,
    threadReply,
    taskOfThread,
    async start() {
      await hub.connect();
    },
    async stop() {
      stopFollowing();
      answers.stop();
      messages.close();
      hub.close();
    },
  };
}

async function callSlack<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const coded = error as { code?: string; retryAfter?: number };
    if (coded.code === ErrorCode.RateLimitedError) {
      throw new RateLimitedError((coded.retryAfter ?? 1) * 1000, (error as Error).message);
    }
    throw error;
  }
}
