// REST for the built-in router's intake: `POST /api/route` hands it a task (202 with its id).
import type { FastifyInstance } from "fastify";
import type { Router } from "../router/router.ts";

export function registerRouteRoutes(app: FastifyInstance, router: Router): void {
  app.post("/api/route", async (request, reply) => {
    const { taskId } = await router.route(request.body);
    return reply.code(202).send({ taskId });
  });
}
