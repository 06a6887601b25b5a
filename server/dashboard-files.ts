// Serves the dashboard's built files (dist/dashboard, made by `npm run build:dashboard`) at `/`.
// The hub only serves them; building happens before start (see client/dashboard/build.ts).
import { existsSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
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
  await app.register(fastifyStatic, {
    root,
    prefix: "/",
    // Routes only for the files that exist, so every other path keeps the hub's own 404.
    wildcard: false,
    decorateReply: false,
    index: "index.html",
    cacheControl: false, // set per file below
    setHeaders(response, filePath) {
      response.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
      // The first address carries ?token=; it must not leak to anything the page links to.
      response.setHeader("Referrer-Policy", "no-referrer");
      response.setHeader("X-Content-Type-Options", "nosniff");
      // Vite names assets/ files by their content hash, so they never change; everything else
      // (index.html, which names the current assets, and the favicon) is revalidated.
      const hashed = filePath.startsWith(join(root, "assets") + sep);
      response.setHeader("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
    },
  });
}
