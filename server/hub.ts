// The hub's HTTP and WebSocket server: security checks, REST routes, `/ws` live push, `/healthz`.
import websocket from "@fastify/websocket";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import {
  type AccessPolicy,
  isHostAllowed,
  isOriginAllowed,
  tokenDecision,
  WEBSOCKET_PATH,
} from "../shared/access-policy.ts";
import type { Health, UsageDocument } from "../shared/schemas.ts";
import { Broadcaster } from "./broadcaster.ts";
import type { Config } from "./config.ts";
import type { DocumentFeed, VersionedDocument } from "./document.ts";
import { SwitchboardError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { routeAccess } from "./route-access.ts";
import { registerContextRoutes } from "./routes/context.ts";
import type { Secrets } from "./start-options.ts";
import type { TaskContext } from "./task-context.ts";

export const VERSION = "0.1.0";

export interface HubDependencies {
  config: Config;
  secrets: Secrets;
  taskContext: TaskContext;
  health: VersionedDocument<Health>;
  usage: VersionedDocument<UsageDocument>;
  logger: Logger;
  /**
   * Adds the routes of later parts (warmup, router, adapters, dashboard). Their routes need the
   * token unless the plugin marks them public (server/route-access.ts).
   */
  plugins?: ((app: FastifyInstance) => void | Promise<void>)[];
}

export interface Hub {
  app: FastifyInstance;
  broadcaster: Broadcaster;
}

/** Fastify's compiler factory for route schemas, which the hub does not use (see createHub). */
function noSchemaCompiler(): never {
  throw new Error("route JSON schemas are not used: the hub checks requests with zod in its handlers");
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export async function createHub(deps: HubDependencies): Promise<Hub> {
  const { config, secrets, taskContext, logger } = deps;
  const startedAt = Date.now();
  const policy: AccessPolicy = {
    token: secrets.token,
    allowedOrigins: config.security.allowedOrigins,
    allowedHosts: config.security.allowedHosts,
  };

  const app = Fastify({
    logger: false,
    bodyLimit: config.hub.bodyLimitBytes,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    forceCloseConnections: true,
    // Requests and replies are checked with zod in the handlers, never with route JSON schemas, so
    // fastify's schema compilers (ajv, fast-json-stringify) are not loaded at all.
    schemaController: { compilersFactory: { buildValidator: noSchemaCompiler, buildSerializer: noSchemaCompiler } },
    return503OnClosing: true,
    // A path the router cannot take apart (an id longer than any valid one, broken %-encoding)
    // gets the contract's error body, not the framework's own 414 or 400 shape.
    frameworkErrors: (error, _request, reply) => {
      const message =
        error.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? "a path segment (task id, channel or backend name) is far longer than any valid one; check the URL"
          : "the URL is not valid (check its %-encoding)";
      (reply as FastifyReply).code(400).send(errorBody("invalid_input", message));
    },
  });

  const broadcaster = new Broadcaster({
    documents: { context: taskContext.document, health: deps.health, usage: deps.usage },
    maxBufferedBytes: config.hub.maxBufferedBytes,
    heartbeatIntervalMs: config.hub.heartbeatIntervalMs,
    logger,
  });

  app.setErrorHandler((error: FastifyError | SwitchboardError, _request, reply) => {
    if (error instanceof SwitchboardError) return reply.code(error.status).send(error.toBody());
    const status = error.statusCode ?? 500;
    if (status === 413) {
      return reply
        .code(413)
        .send(errorBody("too_large", `the request body is larger than ${config.hub.bodyLimitBytes} bytes`));
    }
    if (status === 415) {
      return reply
        .code(400)
        .send(errorBody("invalid_input", "send the body as JSON with Content-Type: application/json"));
    }
    if (status >= 400 && status < 500) return reply.code(400).send(errorBody("invalid_input", error.message));
    logger.error(`request failed: ${error.stack ?? error.message}`);
    return reply.code(500).send(errorBody("internal", "the hub hit an unexpected error; see its log"));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody("not_found", `no route ${request.method} ${request.url.split("?")[0]}`)),
  );

  // Bodies are JSON only: a text/plain body would otherwise reach handlers as a string.
  app.removeContentTypeParser("text/plain");
  // An empty POST (an approve button, `curl -X POST`) is an empty object, not a parse error.
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text, rejectPoisonedKeys));
    } catch (error) {
      done(new SwitchboardError("invalid_input", `the body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });

  await app.register(websocket, {
    options: { maxPayload: config.hub.maxFrameBytes },
    // Replaces the plugin's default, which closes sockets without a code (1005): clients are
    // told 1001 (going away) so they know to reconnect, and stragglers are dropped after a grace.
    preClose: async function (this: FastifyInstance) {
      await broadcaster.close();
      this.websocketServer.close();
    },
  });
  // After the websocket plugin, whose own onRequest hook marks upgrades: a refused upgrade is
  // then answered and its socket destroyed, instead of lingering and holding up shutdown.
  app.addHook("onRequest", (request, reply, done) => {
    const refusal = checkAccess(request, policy) ?? misplacedUpgrade(request);
    if (refusal) reply.code(refusal.status).send(refusal.toBody());
    else done();
  });
  app.get(WEBSOCKET_PATH, { websocket: true }, (socket) => broadcaster.attach(socket));
  // Read-your-writes for a live mirror: each answer to a change names the documents' positions
  // after it, so a client (the switchboard/session package) can wait until its mirror holds them.
  app.addHook("onSend", async (request, reply) => {
    if (MUTATING.has(request.method))
      reply.header(POSITIONS_HEADER, positionsHeader(taskContext.document, deps.health));
  });

  app.get("/healthz", async () => {
    const persistence = {
      context: persistenceState(taskContext.document),
      health: persistenceState(deps.health),
      usage: persistenceState(deps.usage),
    };
    // Still serving, but changes are not reaching the disk: say so rather than "ok".
    const degraded = Object.values(persistence).some((state) => !state.ok);
    return {
      status: degraded ? "degraded" : "ok",
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      clients: broadcaster.clientCount,
      persistence,
    };
  });

  registerContextRoutes(app, taskContext);
  for (const plugin of deps.plugins ?? []) await plugin(app);

  return { app, broadcaster };
}

/** `context=<epoch>:<version>, health=<epoch>:<version>`, read by client/package/hub-connection.ts. */
export const POSITIONS_HEADER = "switchboard-positions";

function positionsHeader(context: DocumentFeed, health: DocumentFeed): string {
  return `context=${context.epoch}:${context.version}, health=${health.epoch}:${health.version}`;
}

function persistenceState(document: DocumentFeed) {
  const file = document.file;
  if (!file) return { ok: true, path: null, writes: 0, error: null };
  return { ok: file.lastError === null, path: file.path, writes: file.writes, error: file.lastError?.message ?? null };
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** JSON.parse reviver that refuses prototype-pollution keys anywhere in a body. */
function rejectPoisonedKeys(key: string, value: unknown): unknown {
  if (key === "__proto__" || key === "constructor" || key === "prototype") {
    throw new Error(`the key "${key}" is not allowed`);
  }
  return value;
}

/**
 * A WebSocket upgrade is answered only at /ws. Elsewhere (a public path such as the dashboard's
 * page among them) it is a 404 before any handshake, not a connection opened and then closed.
 */
function misplacedUpgrade(request: FastifyRequest): SwitchboardError | null {
  if (!request.ws || request.routeOptions.url === WEBSOCKET_PATH) return null;
  return new SwitchboardError("not_found", `WebSocket connections are served only at ${WEBSOCKET_PATH}`);
}

function checkAccess(request: FastifyRequest, policy: AccessPolicy): SwitchboardError | null {
  const host = request.headers.host;
  if (!isHostAllowed(host, policy)) {
    return new SwitchboardError(
      "forbidden",
      `the Host header ${JSON.stringify(host ?? "")} is not allowed; add it to security.allowedHosts in config.json`,
    );
  }
  const isUpgrade = request.headers.upgrade?.toLowerCase() === "websocket";
  if ((isUpgrade || MUTATING.has(request.method)) && !isOriginAllowed(request.headers.origin, host, policy)) {
    return new SwitchboardError(
      "forbidden",
      `the origin ${request.headers.origin} may not use this hub; add it to security.allowedOrigins in config.json`,
    );
  }
  const allowed = tokenDecision({
    token: policy.token,
    access: routeAccess(request),
    route: request.routeOptions.url,
    isUpgrade,
    authorization: request.headers.authorization,
    queryToken: (request.query as Record<string, unknown> | undefined)?.token,
  });
  if (!allowed) {
    return new SwitchboardError(
      "unauthorized",
      "a valid token is required: send Authorization: Bearer $SWITCHBOARD_TOKEN",
    );
  }
  return null;
}
