// REST for the approval MCP server: `POST /api/tool-approvals` asks about one tool call Claude wants
// to make and answers (once decided) with Claude's permission result.
import type { FastifyInstance } from "fastify";
import type { ToolApprovals } from "../tool-approvals/tool-approvals.ts";

export function registerToolApprovalRoutes(app: FastifyInstance, toolApprovals: ToolApprovals): void {
  app.post("/api/tool-approvals", async (request) => toolApprovals.ask(request.body));
}
