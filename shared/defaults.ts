// The defaults both the hub (server/config.ts) and the channels run on their own (client/) need —
// where the hub listens, the voice, Telegram and Slack channels' settings, where the hub's token
// comes from — kept here once so `npm run voice`, `telegram` and `slack` and config.json's
// sections cannot drift apart.

/** The hub binds to loopback unless config.json says otherwise (and a token is set). */
export const HUB_HOST = "127.0.0.1";
export const HUB_PORT = 7433;
/** Where a channel finds the hub when not told (`--hub`, SWITCHBOARD_HUB). */
export const DEFAULT_HUB_URL = `http://${HUB_HOST}:${HUB_PORT}`;

/** The voice channel's settings: config.json's `voice` section without `enabled`. */
export interface VoiceSettings {
  /** Where `GET /status` is served. */
  host: string;
  port: number;
  tts: {
    /** "auto" = the platform's synthesizer (espeak-ng, say), "none" = silent, or a command. */
    command: string;
    args: string[];
    timeoutMs: number;
  };
  /** The voice channel is marked active at most this often for the same task. */
  activeThrottleMs: number;
}

export const VOICE_DEFAULTS: Readonly<VoiceSettings> = {
  host: HUB_HOST,
  port: 7434,
  tts: { command: "auto", args: [], timeoutMs: 30_000 },
  activeThrottleMs: 30_000,
};

/** The Telegram channel's settings: config.json's `telegram` section without `enabled`. */
export interface TelegramSettings {
  /** The only chats served. */
  chatIds: number[];
  /** When not empty, only these people may act in a group chat (a private chat is its own person's). */
  userIds: number[];
  /** The Bot API root, without a trailing slash. */
  apiRoot: string;
  /** Least time between two edits of one task's message. */
  minEditIntervalMs: number;
  /** How long one long poll (getUpdates) waits for news. */
  pollTimeoutSeconds: number;
}

export const TELEGRAM_DEFAULTS: Readonly<TelegramSettings> = {
  chatIds: [],
  userIds: [],
  apiRoot: "https://api.telegram.org",
  minEditIntervalMs: 1000,
  pollTimeoutSeconds: 30,
};

/** What the Slack adapter needs of config.json's `slack` section. */
export interface SlackSettings {
  /** Channels that get a message per task. */
  channels: string[];
  /** The Web API root. */
  apiUrl: string;
  /** Least time between two updates of one task's message. */
  minEditIntervalMs: number;
}

export const SLACK_DEFAULTS: Readonly<SlackSettings> = {
  channels: [],
  apiUrl: "https://slack.com/api/",
  minEditIntervalMs: 1000,
};

/** A secret from the environment, trimmed; null when unset or empty. */
export function secretFrom(env: Record<string, string | undefined>, name: string): string | null {
  return env[name]?.trim() || null;
}

/** The hub's token, when it has one: SWITCHBOARD_TOKEN, trimmed (empty means none). */
export function hubTokenFrom(env: Record<string, string | undefined>): string | null {
  return secretFrom(env, "SWITCHBOARD_TOKEN");
}
