// REST for acting on a task: approve, reject and cancel, for any task whoever publishes it.
import type { FastifyInstance } from "fastify";
import type { Approvals } from "../approvals.ts";

export function registerApprovalRoutes(app: FastifyInstance, approvals: Approvals): void {
  app.post<{ Params: { taskId: string } }>("/api/context/tasks/:taskId/approve", async (request) =>
    approvals.approveTask(request.params.taskId, request.body),
  );
  app.post<{ Params: { taskId: string } }>("/api/context/tasks/:taskId/reject", async (request) =>
    approvals.rejectTask(request.params.taskId, request.body),
  );
  app.post<{ Params: { taskId: string } }>("/api/context/tasks/:taskId/cancel", async (request) =>
    approvals.cancelTask(request.params.taskId, request.body),
  );
}
