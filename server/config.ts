// config.json: its schema (with every default; the channel sections are in channel-settings.ts)
// and loading. Secrets never live here; they come from the environment (start-options.ts).
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import { HUB_HOST, HUB_PORT } from "../shared/defaults.ts";
import { backendSettingsSchema, DEFAULT_BACKENDS } from "./backends/settings.ts";
import {
  notifySettingsSchema,
  slackSettingsSchema,
  telegramSettingsSchema,
  voiceSettingsSchema,
} from "./channel-settings.ts";
import { flag, nonNegativeInt, port, positiveInt, text } from "./config-fields.ts";
import { DEFAULT_CONTEXT_LIMITS } from "./context-limits.ts";
import { preview } from "./errors.ts";
import { workspacesSchema } from "./workspaces/settings.ts";

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
  voice: voiceSettingsSchema,
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
  telegram: telegramSettingsSchema,
  slack: slackSettingsSchema,
  notify: notifySettingsSchema,
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
  // Parsed once per start: no code generated for it (zod's JIT pays off only for schemas parsed often).
  const result = configSchema.safeParse(raw, { reportInput: true, jitless: true });
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
