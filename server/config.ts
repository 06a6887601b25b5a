// config.json: its schema (with every default), loading, and command-line overrides.
// Secrets never live here; they come from the environment (see `readSecrets`).
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as z from "zod";
import { HUB_HOST, HUB_PORT, hubTokenFrom, VOICE_DEFAULTS } from "../shared/defaults.ts";
import { NOTIFY_EVENTS } from "../shared/schemas.ts";
import { backendSettingsSchema, DEFAULT_BACKENDS } from "./backends/settings.ts";
import { DEFAULT_CONTEXT_LIMITS } from "./context-limits.ts";
import { preview } from "./errors.ts";
import { workspacesSchema } from "./workspaces/settings.ts";

const positiveInt = (fallback: number) =>
  z
    .number({ error: "must be a positive integer" })
    .int({ error: "must be a positive integer" })
    .positive({ error: "must be a positive integer" })
    .default(fallback);

const port = (fallback: number) =>
  z
    .number({ error: "must be a port number from 0 to 65535" })
    .int({ error: "must be a port number from 0 to 65535" })
    .min(0, { error: "must be a port number from 0 to 65535" })
    .max(65535, { error: "must be a port number from 0 to 65535" })
    .default(fallback);
const nonNegativeInt = (fallback: number) =>
  z
    .number({ error: "must be an integer of 0 or more" })
    .int({ error: "must be an integer of 0 or more" })
    .min(0, { error: "must be an integer of 0 or more" })
    .default(fallback);
const text = (fallback: string) => z.string({ error: "must be a string" }).default(fallback);
const flag = (fallback: boolean) => z.boolean({ error: "must be true or false" }).default(fallback);
const notifyEvents = () =>
  z
    .array(z.enum(NOTIFY_EVENTS, { error: `must be a list of events among ${NOTIFY_EVENTS.join(", ")}` }), {
      error: `must be a list of events among ${NOTIFY_EVENTS.join(", ")}`,
    })
    .default([...NOTIFY_EVENTS]);

export const configSchema = z.strictObject({
  /** Interface to bind; anything but loopback needs SWITCHBOARD_TOKEN. */
  host: text(HUB_HOST),
  /** TCP port; 0 picks any free port. */
  port: port(HUB_PORT),
  /** Where active-context.json and backend-health.json live, relative to this file. */
  dataDir: text("data"),
  logLevel: z
    .enum(["debug", "info", "warn", "error", "silent"], { error: "must be one of debug, info, warn, error, silent" })
    .default("info"),
  security: z
    .strictObject({
      /** Extra browser origins allowed to connect and mutate (the hub's own is always allowed). */
      allowedOrigins: z.array(z.string({ error: "must be a list of origins" })).default([]),
      /** Extra Host header names accepted besides loopback names (DNS rebinding guard). */
      allowedHosts: z.array(z.string({ error: "must be a list of host names" })).default([]),
    })
    .prefault({}),
  context: z
    .strictObject({
      /** How many finished tasks `recentCompleted` keeps. */
      recentLimit: positiveInt(10),
      /** Tasks in `activeTasks` at once; adding or reopening one more is 409. */
      maxActiveTasks: positiveInt(DEFAULT_CONTEXT_LIMITS.maxActiveTasks),
      /** Largest task, as JSON in bytes; a change that grows one past it is 413. */
      maxTaskBytes: positiveInt(DEFAULT_CONTEXT_LIMITS.maxTaskBytes),
      /** Largest context document, as JSON in bytes; a change that grows it past this is 413. */
      maxDocumentBytes: positiveInt(DEFAULT_CONTEXT_LIMITS.maxDocumentBytes),
    })
    .prefault({}),
  persistence: z
    .strictObject({
      /** fsync every write and its directory; turning it off trades durability for speed. */
      fsync: flag(true),
      /** After a failed save (disk full, read-only), how long until the hub tries again. */
      retryDelayMs: positiveInt(2000),
    })
    .prefault({}),
  hub: z
    .strictObject({
      /** Largest accepted request body, in bytes (413 beyond). */
      bodyLimitBytes: positiveInt(1024 * 1024),
      /** Largest accepted WebSocket frame from a client, in bytes (close 1009 beyond). */
      maxFrameBytes: positiveInt(64 * 1024),
      /** Recent patches kept per topic for clients that resume with `since`. */
      historyLimit: positiveInt(1000),
      /** ...and at most this many bytes of them (as JSON) per topic; older ones are dropped first. */
      historyLimitBytes: positiveInt(32 * 1024 * 1024),
      /** How often every WebSocket client is pinged; silent clients are dropped. */
      heartbeatIntervalMs: positiveInt(30_000),
      /** A client whose send buffer passes this stops receiving patches until it drains. */
      maxBufferedBytes: positiveInt(1024 * 1024),
    })
    .prefault({}),
  /**
   * Where the documents live: `memory` (this process, with the JSON files) or `redis`, shared
   * by several hubs (see docs/cluster.md).
   */
  store: z
    .strictObject({
      kind: z.enum(["memory", "redis"], { error: 'must be "memory" or "redis"' }).default("memory"),
      /** The Redis to share, e.g. redis://127.0.0.1:6379 (a password may be in the URL). */
      url: z
        .string({ error: "must be a redis:// or rediss:// URL" })
        .regex(/^rediss?:\/\/\S+$/, { error: "must be a redis:// or rediss:// URL" })
        .default("redis://127.0.0.1:6379"),
      /** Prefix of every key, so several setups can share one Redis. */
      keyPrefix: z
        .string({ error: "must be a key prefix of letters, digits, _ . -" })
        .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: "must be a key prefix of letters, digits, _ . -" })
        .default("sb"),
      /** A hub that stops renewing its leases (died) loses its tasks to another hub after this. */
      leaseTtlMs: positiveInt(10_000),
    })
    .prefault({}),
  /** Warm standby: health pings, status windows and pre-warmed sessions (see docs/backends-and-router.md). */
  warmup: z
    .strictObject({
      /** How often every backend is pinged. */
      intervalMs: positiveInt(900_000),
      /**
       * How long after start-up the first pings wait, so the hub serves its first clients before
       * the CLIs it pings start competing for the processor.
       */
      firstPingDelayMs: nonNegativeInt(1_000),
      /** A successful ping this recent makes a backend `warm`. */
      warmWindowMs: positiveInt(300_000),
      /** `healthy` lasts `intervalMs + graceMs` after a successful ping, then `cold` (0: exactly `intervalMs`). */
      graceMs: nonNegativeInt(60_000),
      /** A ping (both commands, or both requests) that takes longer is killed: "timed out". */
      pingTimeoutMs: positiveInt(20_000),
      /** A dead backend is retried after this, doubling up to `intervalMs`. */
      retryInitialMs: positiveInt(30_000),
      /** An unused pre-warmed session is killed after this long. */
      sessionTtlMs: positiveInt(120_000),
      maxSessionsPerBackend: positiveInt(1),
      /** Pre-warm a backend ahead of a queued task's estimated dispatch time. */
      autoPrewarm: flag(false),
      autoPrewarmLeadMs: positiveInt(30_000),
      /** Directories searched before PATH for backend commands (e.g. ["/home/me/.local/bin"]). */
      searchPath: z.array(z.string({ error: "must be a list of directories" })).default([]),
    })
    .prefault({}),
  /** The voice channel (client/voice), started next to the hub when enabled; same defaults as `npm run voice`. */
  voice: z
    .strictObject({
      enabled: flag(false),
      /** Where `GET /status` is served; anything but loopback needs SWITCHBOARD_TOKEN. */
      host: text(HUB_HOST),
      port: port(VOICE_DEFAULTS.port),
      tts: z
        .strictObject({
          /** "auto" (espeak-ng on Linux, say on macOS), "none", or a command on PATH. */
          command: z
            .string({ error: 'must be a command, "auto" or "none"' })
            .min(1)
            .default(VOICE_DEFAULTS.tts.command),
          /** Arguments; "{text}" is replaced by the sentence, otherwise it is written to stdin. */
          args: z.array(z.string({ error: "must be a list of strings" })).default([...VOICE_DEFAULTS.tts.args]),
          /** A synthesizer run taking longer is killed with its process group. */
          timeoutMs: positiveInt(VOICE_DEFAULTS.tts.timeoutMs),
        })
        .prefault({}),
      /** The voice channel is marked active at most this often for the same task. */
      activeThrottleMs: positiveInt(VOICE_DEFAULTS.activeThrottleMs),
    })
    .prefault({}),
  /** The built-in router: queues, timeouts, retries, restarts and where outputs go (see docs/backends-and-router.md). */
  router: z
    .strictObject({
      /** Tasks each backend runs at once; the rest wait in its queue. */
      concurrency: positiveInt(1),
      /** A step running longer is killed with its process group and fails ("timed out"). */
      stepTimeoutMs: positiveInt(600_000),
      /** A failed step is tried once more on the next-best backend instead of failing the task. */
      retryOnFailure: flag(false),
      /** Tasks a previous hub left running: "fail" them ("hub restarted") or "requeue" them. */
      onRestart: z.enum(["fail", "requeue"], { error: 'must be "fail" or "requeue"' }).default("fail"),
      /** Where outputs are written (relative to the project unless absolute); created if missing. */
      artifactsDir: text("artifacts"),
      /** Streamed backend output reaches a task's lastUpdate at most this often. */
      outputThrottleMs: positiveInt(500),
      /** A task's Claude process waits this long for the conversation's next turn (then a turn resumes it cold). */
      conversationKeepMs: positiveInt(600_000),
      /** Claude processes kept for conversations at once; the one unused longest ends first. */
      maxWarmConversations: positiveInt(4),
      /** How long a step is expected to take before any ETA is known (queued tasks' dispatch estimates). */
      estimatedStepMs: positiveInt(60_000),
      /** The workspace a task runs in when it names none; without it, the data directory's `workspace` folder. */
      defaultWorkspace: z
        .string({ error: "must be the name of a configured workspace" })
        .min(1, { error: "must be the name of a configured workspace" })
        .optional(),
      /** A step refused for a subscription limit: "fallback" to the next-best backend, or "wait" for the reset. */
      onRateLimit: z.enum(["fallback", "wait"], { error: 'must be "fallback" or "wait"' }).default("fallback"),
      /** How long a backend rests after a limit whose message gives no reset time. */
      limitBackoffMs: positiveInt(3_600_000),
      /** Backends preferred for a task kind, e.g. {"code": ["codex"]}. */
      kinds: z
        .record(z.string(), z.array(z.string({ error: "must be a list of backend names" })), {
          error: 'must map a task kind to backend names, e.g. {"code": ["codex"]}',
        })
        .default({}),
    })
    .prefault({}),
  /** The Telegram adapter (client/telegram), started next to the hub when enabled; token from TELEGRAM_BOT_TOKEN. */
  telegram: z
    .strictObject({
      enabled: flag(false),
      /** The only chats served: each gets a message per task; updates from any other chat are ignored. */
      chatIds: z
        .array(
          z
            .number({ error: "must be a list of numeric chat ids" })
            .int({ error: "must be a list of numeric chat ids" }),
          {
            error: "must be a list of numeric chat ids",
          },
        )
        .default([]),
      /** The Bot API root, without a trailing slash (a local Bot API server, or a fake in tests). */
      apiRoot: z
        .string({ error: "must be an http(s) URL without a trailing slash" })
        .regex(/^https?:\/\/.*[^/]$/, { error: "must be an http(s) URL without a trailing slash" })
        .default("https://api.telegram.org"),
      /** When not empty, only these Telegram user ids may act in a configured chat (a private chat's own user always may). */
      userIds: z
        .array(
          z
            .number({ error: "must be a list of numeric user ids" })
            .int({ error: "must be a list of numeric user ids" }),
          { error: "must be a list of numeric user ids" },
        )
        .default([]),
      /** Least time between two edits of one task's message. */
      minEditIntervalMs: positiveInt(1000),
      /** How long one long poll (getUpdates) waits for news. */
      pollTimeoutSeconds: positiveInt(30),
    })
    .prefault({}),
  /** Slack: the hub's /api/slack/ endpoint (SLACK_SIGNING_SECRET) and the adapter (client/slack, SLACK_BOT_TOKEN). */
  slack: z
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
        .default("https://slack.com/api/"),
      /** Least time between two updates of one task's message. */
      minEditIntervalMs: positiveInt(1000),
      /** false when the adapter runs on its own (`npm run slack`); the hub still serves /api/slack/. */
      startAdapter: flag(true),
    })
    .prefault({}),
  /** Commands run when a task finishes, fails or waits for approval, or a backend is limited (docs/configuration.md, Notifiers). */
  notify: z
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
    .prefault({}),
  /** Backends by name; each `kind` is one module in server/backends. */
  backends: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, { error: "backend names must be lowercase letters, digits, _ or -" }),
      backendSettingsSchema,
      {
        error: (issue) =>
          issue.code === "invalid_key"
            ? "is not a valid backend name: use lowercase letters, digits, _ or - (at most 40)"
            : 'must be an object of backends by name, e.g. {"claude": {"kind": "claude"}}',
      },
    )
    .prefault(DEFAULT_BACKENDS),
  /** Named folders tasks run in, with how each backend may act there (see docs, Workspaces). */
  workspaces: workspacesSchema,
});

export type Config = z.infer<typeof configSchema>;
/** The `router` section: what the built-in router (server/router/) is given. */
export type RouterSettings = Config["router"];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

// fileURLToPath, not URL.pathname: a checkout under a path with spaces must still find its config.
export const DEFAULT_CONFIG_PATH = resolve(dirname(fileURLToPath(import.meta.url)), "..", "config.json");

/**
 * The seed's name for the session settings is `session`; `context` (the document it keeps) is
 * accepted too. Returns the object with `context` only, and the name the file used.
 */
function sessionAlias(raw: unknown, source: string): { raw: unknown; name: "session" | "context" } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw) || !Object.hasOwn(raw, "session")) {
    return { raw, name: "context" };
  }
  if (Object.hasOwn(raw, "context")) {
    throw new ConfigError(`${source}: give the session settings once, as "session" (or its other name "context")`);
  }
  const { session, ...rest } = raw as Record<string, unknown>;
  return { raw: { ...rest, context: session }, name: "session" };
}

/** Names every plain object already answers to (`constructor`, `toString`, `__proto__`, …). */
const OBJECT_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * The first key anywhere in `value` that is an object-prototype name, as a dotted path. Such a key
 * would be dropped or turn into a prototype hit wherever the hub looks a name up, so it is refused.
 */
function prototypeNamedKey(value: unknown, path: string[] = []): string | null {
  if (value === null || typeof value !== "object") return null;
  for (const [key, child] of Object.entries(value)) {
    if (!Array.isArray(value) && OBJECT_NAMES.has(key)) return [...path, key].join(".");
    const found = prototypeNamedKey(child, [...path, key]);
    if (found) return found;
  }
  return null;
}

/** Parses a config object; the error names the key, what it must be, and what was found. */
export function parseConfig(input: unknown, source = "config.json"): Config {
  const reserved = prototypeNamedKey(input);
  if (reserved) {
    throw new ConfigError(
      `${source}: ${reserved} uses a name every JavaScript object already has; choose another name for it`,
    );
  }
  const { raw, name } = sessionAlias(input, source);
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) {
    const wanted = result.data.router.defaultWorkspace;
    if (wanted !== undefined && !Object.hasOwn(result.data.workspaces, wanted)) {
      const names = Object.keys(result.data.workspaces);
      throw new ConfigError(
        `${source}: router.defaultWorkspace names ${JSON.stringify(wanted)}, which is not in workspaces ` +
          `(${names.length > 0 ? `configured: ${names.join(", ")}` : "none is configured"})`,
      );
    }
    return result.data;
  }
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const path = issue.path
    .map(String)
    .map((key, i) => (i === 0 && key === "context" ? name : key))
    .join(".");
  if (issue.code === "unrecognized_keys") {
    const where = path ? ` in ${path}` : "";
    const secret = issue.keys.some((k) => /token|secret|password/i.test(k));
    const advice = secret
      ? "secrets are read only from the environment, e.g. SWITCHBOARD_TOKEN; remove it from the file"
      : "remove it or check its spelling";
    throw new ConfigError(
      `${source}: unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}${where} (${advice})`,
    );
  }
  const got = "input" in issue ? ` (got ${issue.input === undefined ? "nothing" : preview(issue.input)})` : "";
  throw new ConfigError(`${source}: ${path || "the top level"} ${issue.message}${got}`);
}

const oneLine = (message: string): string => message.replace(/\s*\n\s*/g, " ");

export async function loadConfigFile(path: string): Promise<Config> {
  let textContent: string;
  try {
    textContent = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(textContent);
  } catch (error) {
    // V8 quotes the offending source text, newlines and all; the error must stay one line.
    throw new ConfigError(`${path}: is not valid JSON (${oneLine((error as Error).message)})`);
  }
  const config = parseConfig(raw, path);
  const base = dirname(path);
  return {
    ...config,
    dataDir: resolve(base, config.dataDir),
    workspaces: resolveWorkspacePaths(config.workspaces, base),
  };
}

/** Workspace folders (and their extra Claude folders) relative to config.json become absolute. */
export function resolveWorkspacePaths(workspaces: Config["workspaces"], base: string): Config["workspaces"] {
  return Object.fromEntries(
    Object.entries(workspaces).map(([name, w]) => [
      name,
      {
        ...w,
        path: resolve(base, w.path),
        claude: {
          ...w.claude,
          ...(w.claude.addDirs ? { addDirs: w.claude.addDirs.map((d) => resolve(base, d)) } : {}),
        },
      },
    ]),
  );
}

export interface StartOptions {
  configPath: string;
  port?: number;
  host?: string;
  dataDir?: string;
}

/** Reads `--config FILE --port N --host H --data-dir DIR`; bad usage is a ConfigError. */
export function parseStartArgs(argv: string[]): StartOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "data-dir": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError(
      `${(error as Error).message}. Usage: npm start -- [--config FILE] [--port N] [--host H] [--data-dir DIR]`,
    );
  }
  const options: StartOptions = { configPath: resolve(String(values.config ?? DEFAULT_CONFIG_PATH)) };
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError(`--port must be a port number from 0 to 65535 (got ${JSON.stringify(values.port)})`);
    }
    options.port = port;
  }
  if (values.host !== undefined) options.host = String(values.host);
  if (values["data-dir"] !== undefined) options.dataDir = resolve(String(values["data-dir"]));
  return options;
}

export async function resolveConfig(options: StartOptions): Promise<Config> {
  const config = await loadConfigFile(options.configPath);
  return {
    ...config,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
  };
}

export interface Secrets {
  /** Guards REST and WebSocket when set. */
  token: string | null;
}

export function readSecrets(env: NodeJS.ProcessEnv = process.env): Secrets {
  return { token: hubTokenFrom(env) };
}
