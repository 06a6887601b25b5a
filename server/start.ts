// Assembles a running hub from a config: documents loaded from disk, the task context, the HTTP and
// WebSocket server. Used by the entry point and by tests that want a real hub in-process.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type * as z from "zod";
import { bareHost } from "../shared/access-policy.ts";
import { type Clock, iso, systemClock } from "../shared/clock.ts";
import {
  contextSchema,
  type Health,
  healthSchema,
  type UsageDocument,
  usageDocumentSchema,
} from "../shared/schemas.ts";
import { type Approvals, createApprovals } from "./approvals.ts";
import { checkBoundAddresses, resolveBindHost, urlHost } from "./bind-address.ts";
import type { RedisStore } from "./cluster/redis-store.ts";
import type { Config } from "./config.ts";
import { dashboardFiles } from "./dashboard-files.ts";
import { loadDocumentFile, VersionedDocument } from "./document.ts";
import { DurableJsonFile } from "./durable-file.ts";
import { createHub, type Hub } from "./hub.ts";
import type { Logger } from "./log.ts";
import { createRouter, type Router } from "./router/router.ts";
import { registerApprovalRoutes } from "./routes/approvals.ts";
import { registerConversationRoutes } from "./routes/conversation.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerRouteRoutes } from "./routes/route.ts";
import { registerToolApprovalRoutes } from "./routes/tool-approvals.ts";
import { registerUsageRoutes } from "./routes/usage.ts";
import { registerWorkspaceRoutes } from "./routes/workspaces.ts";
import type { Secrets } from "./start-options.ts";
import { createTaskContext, emptyContext, type TaskContext } from "./task-context.ts";
import { localTimeZone } from "./time-zone.ts";
import { approvalServerCommand } from "./tool-approvals/approval-server-bundle.ts";
import { createToolApprovals, type ToolApprovals } from "./tool-approvals/tool-approvals.ts";
import { createTranscripts, type Transcripts } from "./transcripts.ts";
import { createUsage, type UsageBook } from "./usage/usage.ts";
import { emptyUsageDocument } from "./usage/usage-tally.ts";
import { createWarmStandby, type WarmStandby } from "./warm-standby/warm-standby.ts";
import { checkWorkspaceFolders, createWorkspaces, type Workspaces } from "./workspaces/workspaces.ts";

export const CONTEXT_FILE = "active-context.json";
export const HEALTH_FILE = "backend-health.json";
export const USAGE_FILE = "usage.json";
/** Each task's answers, one file per task: `<taskId>.jsonl`. */
export const TRANSCRIPTS_DIR = "transcripts";

export interface StartHubOptions {
  config: Config;
  secrets: Secrets;
  logger: Logger;
  clock?: Clock;
  /** Routes of later parts; they need the token unless marked public (server/route-access.ts). */
  plugins?: ((app: FastifyInstance) => void | Promise<void>)[];
  /** Environment for backend CLIs over the hub's own (tests put fake CLIs on PATH). */
  backendEnv?: NodeJS.ProcessEnv;
}

export interface RunningHub {
  url: string;
  port: number;
  hub: Hub;
  taskContext: TaskContext;
  health: VersionedDocument<Health>;
  /** Health pings, statuses and pre-warmed sessions; started with the hub, stopped on close. */
  warmStandby: WarmStandby;
  /** Runs, tokens and cost per backend and day (`GET /api/usage`, topic `usage`). */
  usage: UsageBook;
  /** Approve, reject and cancel for any task. */
  approvals: Approvals;
  /** The built-in router (`POST /api/route`); started after the warm standby, stopped first. */
  router: Router;
  /**
   * Hubs sharing one Redis: true for the one hub that is to do a one-off piece of work named by
   * `key` (a notification); null for a hub alone, which does all of it.
   */
  claimOnce: ((key: string) => Promise<boolean>) | null;
  /** The configured workspaces (`GET /api/workspaces`). */
  workspaces: Workspaces;
  /** Every task's answers (`data/transcripts/`). */
  transcripts: Transcripts;
  /** Claude's permission prompts: tool calls waiting for a person. */
  toolApprovals: ToolApprovals;
  /** Stops accepting, closes sockets with 1001 and flushes both documents. */
  close(): Promise<void>;
}

export class StartupError extends Error {}

export async function startHub(options: StartHubOptions): Promise<RunningHub> {
  const { config, secrets, logger } = options;
  const clock = options.clock ?? systemClock;
  // Before anything is loaded: a name that does not resolve, or resolves off this machine
  // without a token, stops start-up here. The bound addresses are checked again after listen.
  const resolved = await resolveBindHost(config.host);
  if ("refusal" in resolved) throw new StartupError(resolved.refusal);
  const bindRefusal = checkBoundAddresses(config.host, resolved.addresses, secrets.token);
  if (bindRefusal) throw new StartupError(bindRefusal);
  const loadOptions = { logger, now: () => clock.now() };
  // Logs when saving starts failing, when the reason changes, and when it works again: a hub that
  // retries every few seconds against a full disk should not flood the log.
  const fileOptions = (path: string) => {
    let failing: string | null = null;
    return {
      fsync: config.persistence.fsync,
      retryDelayMs: config.persistence.retryDelayMs,
      onWrite: (outcome: { ok: true } | { ok: false; error: Error }) => {
        if (!outcome.ok && outcome.error.message !== failing) {
          failing = outcome.error.message;
          logger.error(`could not save ${path}: ${failing}. Changes stay in memory; retrying.`);
        } else if (outcome.ok && failing !== null) {
          failing = null;
          logger.info(`saved ${path} again; the data directory works again`);
        }
      },
    };
  };

  // Memory: each document lives here and is durable in its JSON file. Redis: shared by every hub
  // on it and durable there; one hub keeps writing the JSON files as readable snapshots.
  const store = config.store.kind === "redis" ? await createRedisStore(config, logger) : null;
  async function openDocument<S extends z.ZodType>(
    topic: string,
    fileName: string,
    schema: S,
    empty: () => z.infer<S>,
  ): Promise<VersionedDocument<z.infer<S>>> {
    const path = join(config.dataDir, fileName);
    const loaded = await loadDocumentFile(path, schema, empty, loadOptions);
    const file = new DurableJsonFile(path, fileOptions(path));
    // A hub killed mid-write leaves its temporary file behind; nobody else will ever remove it.
    const removed = await file.sweepTemporaryFiles();
    if (removed.length > 0) logger.info(`removed ${removed.length} unfinished temporary file(s) next to ${path}`);
    if (!store) {
      return new VersionedDocument({
        initial: loaded.state,
        historyLimit: config.hub.historyLimit,
        historyLimitBytes: config.hub.historyLimitBytes,
        file,
      });
    }
    // The file seeds an empty Redis once; after that Redis is the truth.
    const shared = store.document(topic, { initial: loaded.state, parse: (value) => schema.parse(value) });
    store.writeSnapshots(shared, file);
    return shared;
  }

  // Read side by side: each is a few file operations, and start-up would otherwise wait for them in turn.
  const [contextDocument, health, usageDocument] = await Promise.all([
    openDocument("context", CONTEXT_FILE, contextSchema, () => emptyContext(clock.now())),
    openDocument("health", HEALTH_FILE, healthSchema, (): Health => ({ lastUpdated: iso(clock.now()), backends: {} })),
    openDocument(
      "usage",
      USAGE_FILE,
      usageDocumentSchema,
      (): UsageDocument => emptyUsageDocument(clock.now(), localTimeZone()),
    ),
  ]);
  const usage = createUsage({ document: usageDocument, clock });
  await store?.start().catch((error: Error) => {
    throw new StartupError(error.message);
  });
  const { recentLimit, maxActiveTasks, maxTaskBytes, maxDocumentBytes } = config.context;
  const taskContext = createTaskContext({
    document: contextDocument,
    clock,
    recentLimit,
    limits: { maxActiveTasks, maxTaskBytes, maxDocumentBytes },
  });

  const workspaces = createWorkspaces({
    workspaces: config.workspaces,
    defaultWorkspace: config.router.defaultWorkspace,
    dataDir: config.dataDir,
    backends: config.backends,
  });
  const folderProblem = await checkWorkspaceFolders(config.workspaces);
  if (folderProblem) throw new StartupError(folderProblem);
  // Tasks that name no workspace work here, never in the project's own directory.
  await mkdir(workspaces.dataFolder.path, { recursive: true });
  const warmWorkspace = workspaces.resolveWorkspace(null);
  // Claude's permission prompts reach this hub at the address it listens on (known after listen).
  let ownUrl = "";
  const toolApprovals = createToolApprovals({
    taskContext,
    clock,
    logger,
    dataDir: config.dataDir,
    hubUrl: () => ownUrl,
    server: approvalServerCommand(),
  });

  const warmStandby = createWarmStandby({
    document: health,
    workspace: warmWorkspace,
    permissionPrompts: toolApprovals.prompts,
    backends: config.backends,
    settings: config.warmup,
    limitBackoffMs: config.router.limitBackoffMs,
    clock,
    logger,
    ...(options.backendEnv ? { env: options.backendEnv } : {}),
  });

  const approvals = createApprovals(taskContext);
  const transcriptsDir = join(config.dataDir, TRANSCRIPTS_DIR);
  const transcripts = createTranscripts({ dir: transcriptsDir, file: fileOptions(transcriptsDir) });
  const router = createRouter({
    taskContext,
    warmStandby,
    clock,
    logger,
    settings: config.router,
    transcripts,
    workspaces,
    usage,
    ...(store ? { claims: store.leases } : {}),
  });

  const hub = await createHub({
    config,
    secrets,
    taskContext,
    health,
    usage: usageDocument,
    logger,
    // The dashboard's built files at `/` (static files need no token), then later parts' routes.
    plugins: [
      dashboardFiles(),
      (app) => registerHealthRoutes(app, warmStandby),
      (app) => registerUsageRoutes(app, usage),
      (app) => registerApprovalRoutes(app, approvals),
      (app) => registerRouteRoutes(app, router),
      (app) => registerWorkspaceRoutes(app, workspaces),
      (app) => registerConversationRoutes(app, { taskContext, router, transcripts }),
      (app) => registerToolApprovalRoutes(app, toolApprovals),
      ...(options.plugins ?? []),
    ],
  });
  // The address checked above, bare: listen would look a bracketed "[::1]" up as a name.
  const listenHost = bareHost(config.host);
  const address = await hub.app.listen({ host: listenHost, port: config.port });
  const boundRefusal = checkBoundAddresses(
    config.host,
    hub.app.addresses().map((bound) => (typeof bound === "string" ? bound : bound.address)),
    secrets.token,
  );
  if (boundRefusal) {
    await hub.app.close();
    await Promise.all([contextDocument.file?.close(), health.file?.close(), usageDocument.file?.close()]);
    throw new StartupError(boundRefusal);
  }
  const port = Number(new URL(address).port);
  // A wildcard bind is reached on loopback from this machine.
  ownUrl = ["0.0.0.0", "::"].includes(listenHost)
    ? `http://127.0.0.1:${port}`
    : `http://${urlHost(config.host)}:${port}`;
  toolApprovals.start();
  warmStandby.start();
  usage.start();
  await router.start();

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost(config.host)}:${port}`,
    port,
    claimOnce: store ? (key) => store.leases.once(`once:${key}`) : null,
    hub,
    taskContext,
    health,
    warmStandby,
    usage,
    approvals,
    router,
    workspaces,
    transcripts,
    toolApprovals,
    close() {
      closing ??= (async () => {
        // Waiting tool calls are denied (their long requests end), then running steps, pre-warmed
        // and pinging children die before the hub: no orphans.
        toolApprovals.stop();
        await router.stop();
        await warmStandby.stop();
        usage.stop();
        await hub.app.close();
        await Promise.all([
          contextDocument.file?.close(),
          health.file?.close(),
          usageDocument.file?.close(),
          store?.close(),
          transcripts.close(),
        ]);
      })();
      return closing;
    },
  };
}

/** Loaded only for `store.kind: "redis"`: a hub on its own never compiles ioredis (a tenth of its start-up). */
async function createRedisStore(config: Config, logger: Logger): Promise<RedisStore> {
  const { RedisStore } = await import("./cluster/redis-store.ts");
  return new RedisStore({
    url: config.store.url,
    keyPrefix: config.store.keyPrefix,
    historyLimit: config.hub.historyLimit,
    historyLimitBytes: config.hub.historyLimitBytes,
    leaseTtlMs: config.store.leaseTtlMs,
    logger,
  });
}
