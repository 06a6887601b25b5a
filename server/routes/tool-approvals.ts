// REST for the approval MCP server: `POST /api/tool-approvals` asks about one tool call Claude wants
// to make and answers (once decided) with Claude's permission result.
import type { FastifyInstance } from "fastify";
import { markRoutesPublic } from "../route-access.ts";
import type { ToolApprovals } from "../tool-approvals/tool-approvals.ts";

export async function registerToolApprovalRoutes(app: FastifyInstance, toolApprovals: ToolApprovals): Promise<void> {
  // Public to the hub's token rule: the caller is one Claude process's approval server, which
  // proves itself with its run's own secret instead (the hub's token is never written where a
  // backend could read it). Host and Origin are checked as on every route.
  await app.register(async (scope) => {
    markRoutesPublic(scope);
    scope.post("/api/tool-approvals", async (request) =>
      toolApprovals.ask(request.body, request.headers.authorization),
    );
  });
}
