// The approval MCP server Claude starts over stdio (`--mcp-config` names it, the hub writes that
// config): one tool, `approve`, which Claude calls as `mcp__switchboard__approve` with
// `{tool_name, input, tool_use_id}` before a tool its permission mode does not allow by itself.
// It asks the hub (`POST /api/tool-approvals`, with its run's own secret, which the hub put in this
// process's environment only; never the hub's token) and answers with the hub's decision as Claude's permission result:
// `{"behavior":"allow","updatedInput":…}` or `{"behavior":"deny","message":…}`. Anything that
// goes wrong on the way is a deny that says what happened. Bundled as dist/approval-mcp-server.mjs.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { fileURLToPath } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import * as z from "zod";
import type { ToolDecisionAnswer } from "../../shared/schemas.ts";

export interface HubLink {
  url: string;
  /** The run's own secret (SWITCHBOARD_PERMISSION_SECRET), sent as the bearer token. */
  secret: string;
  run: string;
}

/** Asks the hub about one tool call; waits as long as a person takes (the hub times it out). */
export async function askHub(link: HubLink, call: Record<string, unknown>): Promise<ToolDecisionAnswer> {
  let reply: { status: number; text: string };
  try {
    reply = await postJson(`${link.url}/api/tool-approvals`, link.secret, { run: link.run, ...call });
  } catch (error) {
    return {
      behavior: "deny",
      message: `the Switchboard hub could not be reached or went away while waiting (${(error as Error).message}); denied`,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    body = null;
  }
  const answer = body as Partial<ToolDecisionAnswer> & { error?: { message?: string } };
  if (reply.status === 200 && answer?.behavior === "allow" && answer.updatedInput) {
    return { behavior: "allow", updatedInput: answer.updatedInput };
  }
  if (reply.status === 200 && answer?.behavior === "deny" && typeof answer.message === "string") {
    return { behavior: "deny", message: answer.message };
  }
  const why = answer?.error?.message ?? reply.text.slice(0, 300);
  return { behavior: "deny", message: `the Switchboard hub refused the request (${reply.status}: ${why}); denied` };
}

/** A JSON POST with no time limit of its own: node:http, since fetch gives up on headers after 5 minutes. */
function postJson(url: string, token: string, payload: unknown): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export function createApprovalServer(link: HubLink): McpServer {
  const server = new McpServer({ name: "switchboard", version: "0.1.0" });
  server.registerTool(
    "approve",
    {
      description:
        "Asks the person running Switchboard whether a tool call may run. Answers with a permission result as JSON text.",
      inputSchema: {
        tool_name: z.string().describe("The tool Claude wants to use"),
        input: z.record(z.string(), z.unknown()).describe("The tool's input"),
        tool_use_id: z.string().optional().describe("The id of this tool use"),
      },
    },
    async (args) => {
      const answer = await askHub(link, {
        tool_name: args.tool_name,
        input: args.input,
        ...(args.tool_use_id ? { tool_use_id: args.tool_use_id } : {}),
      });
      return { content: [{ type: "text", text: JSON.stringify(answer) }] };
    },
  );
  return server;
}

async function main(): Promise<void> {
  const url = process.env.SWITCHBOARD_HUB_URL;
  const run = process.env.SWITCHBOARD_PERMISSION_RUN;
  const secret = process.env.SWITCHBOARD_PERMISSION_SECRET;
  if (!url || !run || !secret) {
    process.stderr.write(
      "switchboard approval server: SWITCHBOARD_HUB_URL, SWITCHBOARD_PERMISSION_RUN and SWITCHBOARD_PERMISSION_SECRET must be set\n",
    );
    process.exit(2);
  }
  const server = createApprovalServer({ url, run, secret });
  await server.connect(new StdioServerTransport());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
