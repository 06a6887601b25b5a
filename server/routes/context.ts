// REST for the session API: one endpoint per exported function of the session.
import type { FastifyInstance } from "fastify";
import { notFound } from "../errors.ts";
import type { Session } from "../session.ts";

export function registerContextRoutes(app: FastifyInstance, session: Session): void {
  app.get("/api/context", async () => session.getContext());

  app.get<{ Params: { taskId: string } }>("/api/context/tasks/:taskId", async (request) => {
    const task = session.getActiveTask(request.params.taskId);
    if (!task) throw notFound(`no task with id ${request.params.taskId}`);
    return task;
  });

  app.post("/api/context/tasks", async (request, reply) => {
    const body = request.body as { taskId?: unknown } | undefined;
    const replay = typeof body?.taskId === "string" && session.getActiveTask(body.taskId) !== null;
    const task = await session.addTask(body);
    return reply.code(replay ? 200 : 201).send(task);
  });

  app.patch<{ Params: { taskId: string } }>("/api/context/tasks/:taskId", async (request) =>
    session.updateTask(request.params.taskId, request.body),
  );

  app.post<{ Params: { taskId: string } }>("/api/context/tasks/:taskId/complete", async (request) =>
    session.completeTask(request.params.taskId, request.body ?? {}),
  );

  app.get<{ Params: { channel: string } }>("/api/channels/:channel", async (request) =>
    session.getChannelState(request.params.channel),
  );

  app.post<{ Params: { channel: string } }>("/api/channels/:channel/active", async (request) =>
    session.setChannelActive(request.params.channel, request.body ?? {}),
  );
}
