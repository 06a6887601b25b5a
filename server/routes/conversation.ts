// REST for a task's conversation: a follow-up (`POST …/messages`), the answers so far as Markdown
// (`GET …/output`) and the transcript as JSON (`GET …/transcript`).
import type { FastifyInstance } from "fastify";
import { taskIdSchema } from "../../shared/schemas.ts";
import { notFound, parseInput } from "../errors.ts";
import type { Router } from "../router/router.ts";
import { composeOutput } from "../router/step-output.ts";
import type { TaskContext } from "../task-context.ts";
import { findTask } from "../task-transitions.ts";
import { answersByStep, type Transcripts } from "../transcripts.ts";

export function registerConversationRoutes(
  app: FastifyInstance,
  deps: { taskContext: TaskContext; router: Router; transcripts: Transcripts },
): void {
  const { taskContext, router, transcripts } = deps;

  /** The task (active or recently finished) and its transcript; 404 when it is not kept. */
  async function answersOf(taskId: string) {
    const id = parseInput(taskIdSchema, taskId, "taskId");
    const found = findTask(taskContext.getContext(), id);
    if (!found) throw notFound(`no task with id ${id}; list tasks with GET /api/context`);
    return { task: found.task, entries: (await transcripts.read(id)) ?? [] };
  }

  app.post<{ Params: { taskId: string } }>("/api/context/tasks/:taskId/messages", async (request, reply) => {
    const accepted = await router.followUp(request.params.taskId, request.body);
    return reply.code(202).send(accepted);
  });

  app.get<{ Params: { taskId: string } }>("/api/context/tasks/:taskId/output", async (request, reply) => {
    const { task, entries } = await answersOf(request.params.taskId);
    return reply.type("text/markdown; charset=utf-8").send(composeOutput(task.description, answersByStep(entries)));
  });

  app.get<{ Params: { taskId: string } }>("/api/context/tasks/:taskId/transcript", async (request) => {
    const { task, entries } = await answersOf(request.params.taskId);
    return { taskId: task.taskId, description: task.description, entries };
  });
}
