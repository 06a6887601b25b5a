// REST for the task context: one endpoint per exported function of server/task-context.ts.
import type { FastifyInstance } from "fastify";
import { notFound } from "../errors.ts";
import type { TaskContext } from "../task-context.ts";

export function registerContextRoutes(app: FastifyInstance, taskContext: TaskContext): void {
  app.get("/api/context", async () => taskContext.getContext());

  app.get<{ Params: { taskId: string } }>("/api/context/tasks/:taskId", async (request) => {
    const task = taskContext.getActiveTask(request.params.taskId);
    if (!task) throw notFound(`no task with id ${request.params.taskId}`);
    return task;
  });

  app.post("/api/context/tasks", async (request, reply) => {
    const body = request.body as { taskId?: unknown } | undefined;
    const replay = typeof body?.taskId === "string" && taskContext.getActiveTask(body.taskId) !== null;
    const task = await taskContext.addTask(body);
    return reply.code(replay ? 200 : 201).send(task);
  });

  app.patch<{ Params: { taskId: string } }>("/api/context/tasks/:taskId", async (request) =>
    taskContext.updateTask(request.params.taskId, request.body),
  );

  app.post<{ Params: { taskId: string } }>("/api/context/tasks/:taskId/complete", async (request) =>
    taskContext.completeTask(request.params.taskId, request.body ?? {}),
  );

  app.get<{ Params: { channel: string } }>("/api/channels/:channel", async (request) =>
    taskContext.getChannelState(request.params.channel),
  );

  app.post<{ Params: { channel: string } }>("/api/channels/:channel/active", async (request) =>
    taskContext.setChannelActive(request.params.channel, request.body ?? {}),
  );
}
