// Serves the dashboard's built files (dist/dashboard, made by `npm run build:dashboard`) at `/`.
// The hub only serves them; building happens before start (see client/dashboard/build.ts).
import { existsSync, readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { markRoutesPublic } from "./route-access.ts";

export const DASHBOARD_DIR = fileURLToPath(new URL("../dist/dashboard/", import.meta.url));

// The page talks only to its own hub; nothing inline, nothing from elsewhere, never framed.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * A `plugins` entry for the hub: the built dashboard at `/`, or a clear 503 when it was never
 * built. These routes are public (the page holds no data; it asks for the token itself).
 */
export function dashboardFiles(root: string = DASHBOARD_DIR) {
  return async (hub: FastifyInstance): Promise<void> => {
    await hub.register(async (app) => publicDashboard(app, root));
  };
}

async function publicDashboard(app: FastifyInstance, root: string): Promise<void> {
  markRoutesPublic(app);
  if (!existsSync(join(root, "index.html"))) {
    app.get("/", async (_request, reply) =>
      reply.code(503).send({
        error: {
          code: "unavailable",
          message: `the dashboard is not built (no ${join(root, "index.html")}): run \`npm run build:dashboard\`, or start the hub with \`npm start\`, which builds it`,
        },
      }),
    );
    return;
  }
  // A route for each file Vite wrote (every other path keeps the hub's own 404), listed at start;
  // @fastify/send (content types, ETag and Last-Modified, ranges) is loaded with the first file
  // asked for, not while the hub starts.
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.startsWith("."))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"));
  const routeOptions = {
    // A browser that goes away mid-file is not an error of the hub's; anything else is.
    errorHandler(error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) {
      if (error.code === "ERR_STREAM_PREMATURE_CLOSE") return request.raw.destroy();
      return app.errorHandler(error, request, reply);
    },
  };
  for (const file of files) {
    const serve = (request: FastifyRequest, reply: FastifyReply) => sendFile(request, reply, root, file);
    app.get(`/${file}`, routeOptions, serve);
    if (file === "index.html") app.get("/", routeOptions, serve);
  }
}

let sender: Promise<typeof import("@fastify/send").default> | null = null;

async function sendFile(request: FastifyRequest, reply: FastifyReply, root: string, file: string): Promise<unknown> {
  sender ??= import("@fastify/send").then((module) => module.default);
  const send = await sender;
  const sent = await send(request.raw, encodeURI(`/${file}`), { root, cacheControl: false });
  if (sent.type === "error") {
    // Gone since the hub started (a rebuild renames assets): the hub's own 404.
    if ((sent.metadata.error as { status?: number }).status === 404) return reply.callNotFound();
    return reply.send(sent.metadata.error);
  }
  reply.code(sent.statusCode);
  reply.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  // The first address carries ?token=; it must not leak to anything the page links to.
  reply.header("Referrer-Policy", "no-referrer");
  reply.header("X-Content-Type-Options", "nosniff");
  // Vite names assets/ files by their content hash, so they never change; everything else
  // (index.html, which names the current assets, and the favicon) is revalidated.
  reply.header("Cache-Control", file.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache");
  reply.headers(sent.headers);
  return reply.send(sent.stream);
}
