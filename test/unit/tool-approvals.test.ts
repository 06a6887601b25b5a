// The hub's permission-prompt runs and the approval server's hub call, without Claude: the MCP
// config a run writes (0600, holding the run's own secret, never the hub's token), and every way
// the hub call can fail is a deny that says what happened.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTaskContext } from "../../server/task-context.ts";
import { askHub } from "../../server/tool-approvals/mcp-server.ts";
import {
  createToolApprovals,
  describeDuration,
  permissionPromptFiles,
} from "../../server/tool-approvals/tool-approvals.ts";
import { claudeWorkspaceSchema } from "../../server/workspaces/settings.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-prompts-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("a permission-prompt run", () => {
  it("writes a 0600 MCP config naming the approval server, the hub, the run and its own secret (never the hub's token); close removes it", async () => {
    const dir = await dataDir();
    const approvals = createToolApprovals({
      taskContext: createTaskContext(),
      dataDir: dir,
      hubUrl: () => "http://127.0.0.1:7433",
      server: { command: "/usr/bin/node", args: ["/app/dist/approval-mcp-server.mjs"] },
    });
    const run = approvals.prompts.open();
    expect(run.args.slice(2)).toEqual(["--permission-prompt-tool", "mcp__switchboard__approve"]);
    const path = run.args[1] as string;
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "permission-prompts"))).mode & 0o777).toBe(0o700);
    const config = JSON.parse(await readFile(path, "utf8"));
    expect(config).toEqual({
      mcpServers: {
        switchboard: {
          type: "stdio",
          command: "/usr/bin/node",
          args: ["/app/dist/approval-mcp-server.mjs"],
          env: {
            SWITCHBOARD_HUB_URL: "http://127.0.0.1:7433",
            SWITCHBOARD_PERMISSION_RUN: expect.stringMatching(/^[0-9a-f]{32}$/),
            SWITCHBOARD_PERMISSION_SECRET: expect.stringMatching(/^[0-9a-f]{64}$/),
          },
        },
      },
    });
    run.close();
    expect(permissionPromptFiles(dir)).toEqual([]);
  });

  it("answers deny for a run it does not know, or one not bound to a task; 401 without the run's own secret", async () => {
    const approvals = createToolApprovals({
      taskContext: createTaskContext(),
      dataDir: await dataDir(),
      hubUrl: () => "http://127.0.0.1:1",
      server: { command: "node", args: [] },
    });
    const unknown = await approvals.ask(
      { run: "0".repeat(32), tool_name: "Bash", input: { command: "ls" } },
      undefined,
    );
    expect(unknown).toEqual({
      behavior: "deny",
      message: "Switchboard does not know this Claude process any more (the hub restarted?); denied",
    });
    const run = approvals.prompts.open();
    const env = JSON.parse(await readFile(run.args[1] as string, "utf8")).mcpServers.switchboard.env;
    const id = env.SWITCHBOARD_PERMISSION_RUN;
    const bearer = `Bearer ${env.SWITCHBOARD_PERMISSION_SECRET}`;
    expect(await approvals.ask({ run: id, tool_name: "Bash", input: {} }, bearer)).toEqual({
      behavior: "deny",
      message: "this Claude process is not running a Switchboard task; denied",
    });
    for (const wrong of [undefined, "Bearer not-the-secret", `Bearer ${id}`]) {
      await expect(approvals.ask({ run: id, tool_name: "Bash", input: {} }, wrong)).rejects.toMatchObject({
        status: 401,
      });
    }
    await expect(approvals.ask({ run: "nope", tool_name: "Bash", input: {} }, bearer)).rejects.toThrow(
      /run: must be the run id/,
    );
  });
});

describe("a hub stopping while a call waits", () => {
  it("denies the waiting call saying the hub is shutting down, and forgets its runs", async () => {
    const dir = await dataDir();
    const taskContext = createTaskContext();
    await taskContext.addTask({
      taskId: "t-stop",
      description: "run the tests",
      startedFrom: "cli",
      status: "running",
    });
    const approvals = createToolApprovals({
      taskContext,
      dataDir: dir,
      hubUrl: () => "http://127.0.0.1:1",
      server: { command: "node", args: [] },
    });
    const run = approvals.prompts.open();
    run.bind({
      taskId: "t-stop",
      workspace: { name: "repo", path: dir, claude: claudeWorkspaceSchema.parse({}), codex: {} },
    });
    const env = JSON.parse(await readFile(run.args[1] as string, "utf8")).mcpServers.switchboard.env;
    const answer = approvals.ask(
      { run: env.SWITCHBOARD_PERMISSION_RUN, tool_name: "Bash", input: { command: "npm test" } },
      `Bearer ${env.SWITCHBOARD_PERMISSION_SECRET}`,
    );
    await vi.waitFor(() => expect(taskContext.getActiveTask("t-stop")?.status).toBe("pending-approval"));

    approvals.stop();
    expect(await answer).toEqual({ behavior: "deny", message: "the Switchboard hub is shutting down; denied" });
    expect(approvals.pendingCount()).toBe(0);
    expect(permissionPromptFiles(dir)).toEqual([]);
  });
});

describe("describeDuration", () => {
  it.each([
    [600_000, "10 minutes"],
    [60_000, "1 minute"],
    [90_000, "90 seconds"],
    [1000, "1 second"],
    [250, "250 ms"],
  ])("%d ms reads %s", (ms, text) => {
    expect(describeDuration(ms)).toBe(text);
  });
});

async function fakeHub(status: number, body: string): Promise<{ url: string; seen: unknown[] }> {
  const seen: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => {
      text += c;
    });
    req.on("end", () => {
      seen.push({ path: req.url, auth: req.headers.authorization, body: JSON.parse(text) });
      res.writeHead(status, { "content-type": "application/json" }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("askHub (the approval server's call to the hub)", () => {
  const call = { tool_name: "Bash", input: { command: "ls" }, tool_use_id: "toolu_1" };

  it("posts the call with its run and the run's secret, and passes the hub's answer on", async () => {
    const hub = await fakeHub(200, JSON.stringify({ behavior: "allow", updatedInput: { command: "ls" } }));
    const answer = await askHub({ url: hub.url, secret: "s3cret", run: "r".repeat(32) }, call);
    expect(answer).toEqual({ behavior: "allow", updatedInput: { command: "ls" } });
    expect(hub.seen).toEqual([
      { path: "/api/tool-approvals", auth: "Bearer s3cret", body: { run: "r".repeat(32), ...call } },
    ]);
  });

  it("turns a refusal into a deny naming the status and the hub's message", async () => {
    const hub = await fakeHub(
      401,
      JSON.stringify({ error: { code: "unauthorized", message: "a valid token is required" } }),
    );
    expect(await askHub({ url: hub.url, secret: "s3cret", run: "r" }, call)).toEqual({
      behavior: "deny",
      message: "the Switchboard hub refused the request (401: a valid token is required); denied",
    });
  });

  it("turns an unreachable hub into a deny that says so", async () => {
    const answer = await askHub({ url: "http://127.0.0.1:1", secret: "s3cret", run: "r" }, call);
    expect(answer.behavior).toBe("deny");
    expect((answer as { message: string }).message).toMatch(
      /^the Switchboard hub could not be reached or went away while waiting \(.*ECONNREFUSED.*\); denied$/,
    );
  });
});
