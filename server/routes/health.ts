// REST for the health API: one endpoint per exported function of the warm standby.
import type { FastifyInstance } from "fastify";
import * as z from "zod";
import { parseInput } from "../errors.ts";
import type { WarmStandby } from "../warm-standby/warm-standby.ts";

// Ping and prewarm are answered once the health change they made is durable (like every change
// to the context). Ping and prewarm take no parameters; an empty body, or `{}`, is all they accept.
const noFields = z.strictObject({}).optional();

export function registerHealthRoutes(app: FastifyInstance, warmStandby: WarmStandby): void {
  app.get("/api/health", async () => warmStandby.getHealth());

  app.get<{ Params: { backend: string } }>("/api/health/:backend", async (request) =>
    warmStandby.getHealth(request.params.backend),
  );

  app.post<{ Params: { backend: string } }>("/api/health/:backend/ping", async (request) => {
    warmStandby.getHealth(request.params.backend); // 404 before the body is judged
    parseInput(noFields, request.body, "ping");
    const entry = await warmStandby.pingNow(request.params.backend);
    await warmStandby.whenDurable();
    return entry;
  });

  // The seed's startWarmup and stopWarmup: resume and pause the periodic pings; the answer is the
  // health document once its `pingsPaused` is durable.
  app.post("/api/warmup/start", async (request) => {
    parseInput(noFields, request.body, "startWarmup");
    return warmStandby.resumePinging();
  });

  app.post("/api/warmup/stop", async (request) => {
    parseInput(noFields, request.body, "stopWarmup");
    return warmStandby.pausePinging();
  });

  app.post<{ Params: { backend: string } }>("/api/health/:backend/prewarm", async (request, reply) => {
    warmStandby.getHealth(request.params.backend);
    parseInput(noFields, request.body, "prewarm");
    const session = warmStandby.preWarm(request.params.backend);
    await warmStandby.whenDurable();
    return reply.code(202).send({ backend: request.params.backend, session });
  });
}
