// The Slack adapter: one Block Kit message per task per configured channel, posted with
// chat.postMessage and kept up to date with chat.update from the hub's pushed context. Button
// presses and slash commands go to the hub's own Slack endpoint (server/slack-endpoint.ts),
// which acts through the hub; the resulting change comes back here and updates the message.
import { ErrorCode, LogLevel, WebClient } from "@slack/web-api";
import type { AdapterLog, ChatMessages, Timers } from "../chat-messages.ts";
import { createChatMessages, RateLimitedError } from "../chat-messages.ts";
import type { HubClient } from "../hub-client.ts";
import { renderTask, type SlackView } from "./blocks.ts";

export interface SlackAdapterOptions {
  /** A hub client created with `channel: "slack"`; the adapter connects and closes it. */
  hub: HubClient;
  token: string;
  /** Channels (ids like C0123, or #names) that get a message per task. */
  channels: string[];
  /** Web API root (default https://slack.com/api/). */
  apiUrl?: string;
  timers?: Timers;
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

  const messages = createChatMessages<SlackView, SlackMessageRef>({
    destinations: options.channels,
    render: (task, context) => renderTask(task, now(), context),
    ...(options.timers ? { timers: options.timers } : {}),
    ...(options.minEditIntervalMs !== undefined ? { minIntervalMs: options.minEditIntervalMs } : {}),
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

  const unsubscribe = hub.on("change", ({ topic }) => {
    if (topic === "context" && hub.context) messages.sync(hub.context);
  });

  return {
    client,
    messages,
    async start() {
      await hub.connect();
    },
    async stop() {
      unsubscribe();
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
