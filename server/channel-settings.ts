// The channel sections of config.json: the voice channel, Telegram, Slack and the notifiers
// (docs/configuration.md). Each is checked, with its defaults, by configSchema in config.ts.
import * as z from "zod";
import { HUB_HOST, SLACK_DEFAULTS, TELEGRAM_DEFAULTS, VOICE_DEFAULTS } from "../shared/defaults.ts";
import { NOTIFY_EVENTS } from "../shared/schemas.ts";
import { flag, port, positiveInt, text } from "./config-fields.ts";

const notifyEvents = () =>
  z
    .array(z.enum(NOTIFY_EVENTS, { error: `must be a list of events among ${NOTIFY_EVENTS.join(", ")}` }), {
      error: `must be a list of events among ${NOTIFY_EVENTS.join(", ")}`,
    })
    .default([...NOTIFY_EVENTS]);

/** The voice channel (client/voice), started next to the hub when enabled; same defaults as `npm run voice`. */
export const voiceSettingsSchema = z
  .strictObject({
    enabled: flag(false),
    /** Where `GET /status` is served; anything but loopback needs SWITCHBOARD_TOKEN. */
    host: text(HUB_HOST),
    port: port(VOICE_DEFAULTS.port),
    tts: z
      .strictObject({
        /** "auto" (espeak-ng on Linux, say on macOS), "none", or a command on PATH. */
        command: z.string({ error: 'must be a command, "auto" or "none"' }).min(1).default(VOICE_DEFAULTS.tts.command),
        /** Arguments; "{text}" is replaced by the sentence, otherwise it is written to stdin. */
        args: z.array(z.string({ error: "must be a list of strings" })).default([...VOICE_DEFAULTS.tts.args]),
        /** A synthesizer run taking longer is killed with its process group. */
        timeoutMs: positiveInt(VOICE_DEFAULTS.tts.timeoutMs),
      })
      .prefault({}),
    /** The voice channel is marked active at most this often for the same task. */
    activeThrottleMs: positiveInt(VOICE_DEFAULTS.activeThrottleMs),
  })
  .prefault({});

/** The Telegram adapter (client/telegram), started next to the hub when enabled; token from TELEGRAM_BOT_TOKEN. */
export const telegramSettingsSchema = z
  .strictObject({
    enabled: flag(false),
    /** The only chats served: each gets a message per task; updates from any other chat are ignored. */
    chatIds: z
      .array(
        z.number({ error: "must be a list of numeric chat ids" }).int({ error: "must be a list of numeric chat ids" }),
        {
          error: "must be a list of numeric chat ids",
        },
      )
      .default([]),
    /** The Bot API root, without a trailing slash (a local Bot API server, or a fake in tests). */
    apiRoot: z
      .string({ error: "must be an http(s) URL without a trailing slash" })
      .regex(/^https?:\/\/.*[^/]$/, { error: "must be an http(s) URL without a trailing slash" })
      .default(TELEGRAM_DEFAULTS.apiRoot),
    /** When not empty, only these Telegram user ids may act in a configured chat (a private chat's own user always may). */
    userIds: z
      .array(
        z.number({ error: "must be a list of numeric user ids" }).int({ error: "must be a list of numeric user ids" }),
        { error: "must be a list of numeric user ids" },
      )
      .default([]),
    /** Least time between two edits of one task's message. */
    minEditIntervalMs: positiveInt(TELEGRAM_DEFAULTS.minEditIntervalMs),
    /** How long one long poll (getUpdates) waits for news. */
    pollTimeoutSeconds: positiveInt(TELEGRAM_DEFAULTS.pollTimeoutSeconds),
  })
  .prefault({});

/** Slack: the hub's /api/slack/ endpoint (SLACK_SIGNING_SECRET) and the adapter (client/slack, SLACK_BOT_TOKEN). */
export const slackSettingsSchema = z
  .strictObject({
    enabled: flag(false),
    /** Channels (ids like C0123ABCD, or #names) that get a message per task. */
    channels: z.array(z.string({ error: "must be a list of channel ids" })).default([]),
    /** The workspace's team id (T0123…); when set, requests from any other team are refused. */
    teamId: z
      .string({ error: "must be a Slack team id, e.g. T0123ABCD" })
      .regex(/^[A-Z0-9]{2,40}$/, { error: "must be a Slack team id, e.g. T0123ABCD" })
      .optional(),
    /** When not empty, only these Slack user ids (U0123…) may act: press buttons, start and follow up work. */
    userIds: z
      .array(
        z
          .string({ error: "must be a list of Slack user ids" })
          .regex(/^[A-Z0-9]{2,40}$/, { error: "must be a list of Slack user ids, e.g. U0123ABCD" }),
        { error: "must be a list of Slack user ids" },
      )
      .default([]),
    /** The Web API root (a fake in tests). */
    apiUrl: z
      .string({ error: "must be an http(s) URL" })
      .regex(/^https?:\/\//, { error: "must be an http(s) URL" })
      .default(SLACK_DEFAULTS.apiUrl),
    /** Least time between two updates of one task's message. */
    minEditIntervalMs: positiveInt(SLACK_DEFAULTS.minEditIntervalMs),
    /** false when the adapter runs on its own (`npm run slack`); the hub still serves /api/slack/. */
    startAdapter: flag(true),
  })
  .prefault({});

/** Commands run when a task finishes, fails or waits for approval, or a backend is limited (docs/configuration.md, Notifiers). */
export const notifySettingsSchema = z
  .strictObject({
    /** `openclaw system event --text "<sentence>" --mode now` for each of `events`. */
    openclaw: z
      .strictObject({
        enabled: flag(false),
        command: z.string({ error: "must be a command name or path" }).min(1).default("openclaw"),
        events: notifyEvents(),
        timeoutMs: positiveInt(10_000),
      })
      .prefault({}),
    /** Any other notifier: `args` may hold {text}, {taskId} and {status}; no shell is involved. */
    commands: z
      .array(
        z.strictObject({
          command: z.string({ error: "must be a command name or path" }).min(1, { error: "must not be empty" }),
          args: z.array(z.string({ error: "must be a list of strings" })).default([]),
          events: notifyEvents(),
          timeoutMs: positiveInt(10_000),
        }),
        { error: 'must be a list of {"command", "args", "events"}' },
      )
      .default([]),
  })
  .prefault({});
