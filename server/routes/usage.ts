// REST for usage: `GET /api/usage`, the whole usage document (per backend, per day, in total).
import type { FastifyInstance } from "fastify";
import type { UsageBook } from "../usage/usage.ts";

export function registerUsageRoutes(app: FastifyInstance, usage: UsageBook): void {
  app.get("/api/usage", async () => usage.getUsage());
}
