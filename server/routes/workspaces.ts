// REST for the configured workspaces: `GET /api/workspaces` lists their names, descriptions and backends.
import type { FastifyInstance } from "fastify";
import type { Workspaces } from "../workspaces/workspaces.ts";

export function registerWorkspaceRoutes(app: FastifyInstance, workspaces: Workspaces): void {
  app.get("/api/workspaces", async () => workspaces.listWorkspaces());
}
