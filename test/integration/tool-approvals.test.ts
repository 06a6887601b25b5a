// Approving Claude's single tool calls: the fake claude, started with --permission-prompt-tool and
// --mcp-config, launches the hub's approval MCP server over stdio (the real bundle) and puts a
// scripted Bash or Edit call to it; the task waits in pending-approval bound to that call, and the
// decision (or its absence) comes back as Claude's permission result while the task goes on.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HubError } from "../../client/hub-client.ts";
import { permissionPromptFiles } from "../../server/tool-approvals/tool-approvals.ts";
import type { Channel, Task } from "../../shared/schemas.ts";
import { fakeCliCalls } from "../fixtures/fake-cli-env.ts";
import { hubClient, type TestHub } from "../helpers/hub.ts";
import { cleanupRouterHubs, finishedTask, repository, routerHub } from "../helpers/router-hub.ts";

const dirs: string[] = [];
afterEach(async () => {
  await cleanupRouterHubs();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const BASH = { tool_name: "Bash", input: { command: "npm test", description: "Run the tests" } };
const editOf = (repo: string) => ({
  tool_name: "Edit",
  input: { file_path: join(repo, "notes.txt"), old_string: "two", new_string: "TWO" },
});

async function toolHub(
  repo: string,
  calls: unknown[],
  claude: Record<string, unknown> = {},
  extra: { dataDir?: string; artifactsDir?: string; router?: Record<string, unknown> } = {},
) {
  return routerHub({
    workspaces: { repo: { path: repo, claude: { permissionMode: "default", ...claude } } },
    router: { defaultWorkspace: "repo", ...extra.router },
    modes: { FAKE_CLAUDE_TOOL_CALLS: JSON.stringify(calls) },
    ...(extra.dataDir ? { dataDir: extra.dataDir } : {}),
    ...(extra.artifactsDir ? { artifactsDir: extra.artifactsDir } : {}),
  });
}

const task = (hub: TestHub, taskId: string): Task => {
  const found = hub.taskContext.getActiveTask(taskId);
  if (!found) throw new Error(`no task ${taskId}`);
  return found;
};

const waitingTool = (hub: TestHub, taskId: string) =>
  expect
    .poll(() => hub.taskContext.getActiveTask(taskId)?.awaitingApproval?.kind === "tool", {
      timeout: 20_000,
      message: "the tool approval",
    })
    .toBeTruthy();

describe("a Bash call Claude asks about", () => {
  it("puts the task into pending-approval with the command, and an approval lets it run and the task complete", async () => {
    const repo = await repository();
    const { hub, client } = await toolHub(repo, [BASH]);
    const { taskId } = await client.route({ description: "run the tests", startedFrom: "voice" });
    await waitingTool(hub, taskId);

    const waiting = task(hub, taskId);
    expect(waiting.status).toBe("pending-approval");
    expect(waiting.awaitingApproval).toMatchObject({
      kind: "tool",
      tool: "Bash",
      summary: "Bash: npm test",
      title: "Bash: npm test",
      detail: "npm test",
      step: 1,
    });
    expect(waiting.awaitingApproval?.id).toMatch(/^tool_[0-9a-f]{12}$/);
    expect(waiting.lastUpdate).toBe("step 1 of 1 waits for approval: Bash: npm test");

    const approved = await client.approve(taskId, undefined, waiting.awaitingApproval?.id as string);
    // Running again — or already complete: Claude may finish before the answer is read.
    expect(["running", "complete"]).toContain(approved.status);
    expect(approved.awaitingApproval).toBeNull();
    expect(approved.approval).toMatchObject({
      decision: "approved",
      channel: "telegram",
      id: waiting.awaitingApproval?.id,
    });

    const done = await finishedTask(hub, taskId);
    expect(done.status).toBe("complete");
    expect(done.result).toBe(`Bash allowed: ${JSON.stringify(BASH.input)}`);
  });
});

describe("an Edit call Claude asks about", () => {
  it("shows a unified diff of the file; a rejection is Claude's deny with the reason, the file stays, and the task goes on to complete", async () => {
    const repo = await repository();
    const { hub } = await toolHub(repo, [editOf(repo)]);
    const slack = hubClient(hub, { channel: "slack" });
    const { taskId } = await slack.route({ description: "capitalise two", startedFrom: "slack" });
    await waitingTool(hub, taskId);
    const waiting = task(hub, taskId).awaitingApproval;
    expect(waiting).toMatchObject({ tool: "Edit", summary: "Edit notes.txt" });
    expect(waiting?.detail).toBe("--- notes.txt\n+++ notes.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n");

    const rejected = await slack.reject(taskId, "not now", undefined, waiting?.id as string);
    expect(["running", "complete"]).toContain(rejected.status);
    expect(rejected.approval).toMatchObject({ decision: "rejected", channel: "slack", reason: "not now" });

    const done = await finishedTask(hub, taskId);
    expect(done.status).toBe("complete");
    expect(done.result).toBe("Edit denied: rejected on slack: not now");
    expect(await readFile(join(repo, "notes.txt"), "utf8")).toBe("one\ntwo\nthree\n");
    slack.close();
  });

  it("an approved edit reaches the file", async () => {
    const repo = await repository();
    const { hub, client } = await toolHub(repo, [editOf(repo)]);
    const { taskId } = await client.route({ description: "capitalise two", startedFrom: "cli" });
    await waitingTool(hub, taskId);
    await client.approve(taskId);
    expect((await finishedTask(hub, taskId)).status).toBe("complete");
    expect(await readFile(join(repo, "notes.txt"), "utf8")).toBe("one\nTWO\nthree\n");
  });
});

describe("no decision", () => {
  it("within approvalTimeoutMs is a deny with that reason, and the task goes on running to completion", async () => {
    const repo = await repository();
    const { hub, client } = await toolHub(repo, [BASH], { approvalTimeoutMs: 300 });
    const { taskId } = await client.route({ description: "run the tests", startedFrom: "cli" });
    const done = await finishedTask(hub, taskId);
    expect(done.status).toBe("complete");
    expect(done.result).toBe("Bash denied: no decision within 300 ms; denied");
    expect(done.awaitingApproval).toBeNull();
  });
});

describe("a restart while a tool call waits", () => {
  it("denies the call and fails the task saying so (onRestart fail)", async () => {
    const repo = await repository();
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-restart-"));
    dirs.push(dataDir);
    const first = await toolHub(repo, [BASH], {}, { dataDir });
    const { taskId } = await first.client.route({ description: "run the tests", startedFrom: "cli" });
    await waitingTool(first.hub, taskId);
    await first.hub.stop();

    const second = await toolHub(repo, [BASH], {}, { dataDir });
    const failed = await finishedTask(second.hub, taskId);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("the hub restarted while Bash: npm test waited for approval; the tool call was denied");
  });

  it("denies the call and runs the step again, saying so (onRestart requeue)", async () => {
    const repo = await repository();
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-restart-"));
    const artifactsDir = await mkdtemp(join(tmpdir(), "switchboard-artifacts-"));
    dirs.push(dataDir, artifactsDir);
    const first = await toolHub(repo, [BASH], {}, { dataDir, artifactsDir, router: { onRestart: "requeue" } });
    const { taskId } = await first.client.route({ description: "run the tests", startedFrom: "cli" });
    await waitingTool(first.hub, taskId);
    const firstId = task(first.hub, taskId).awaitingApproval?.id;
    await first.hub.stop();

    const second = await toolHub(repo, [BASH], {}, { dataDir, artifactsDir, router: { onRestart: "requeue" } });
    // Recovery said so in the task's last update (the step has started since: read the changes).
    const document = second.hub.taskContext.document;
    const updates = (document.changesSince(document.epoch, 0) ?? []).flatMap((change) =>
      change.ops
        .filter((op) => op.op !== "remove" && op.path.endsWith("/lastUpdate"))
        .map((op) => (op as { value: unknown }).value),
    );
    expect(updates).toContain(
      "the hub restarted while Bash: npm test waited for approval; the tool call was denied; queued again",
    );
    // The step runs again, and Claude asks again: a new call with a new id.
    await expect
      .poll(
        () => {
          const id = second.hub.taskContext.getActiveTask(taskId)?.awaitingApproval?.id;
          return id !== undefined && id !== firstId;
        },
        { timeout: 20_000, message: "the call asked again" },
      )
      .toBeTruthy();
    await second.client.approve(taskId);
    expect((await finishedTask(second.hub, taskId)).status).toBe("complete");
  });
});

describe("the workspace's rules", () => {
  it.each([
    ["alwaysAllow names the tool", { alwaysAllow: ["Bash"] }, `Bash allowed: ${JSON.stringify(BASH.input)}`],
    ["approveTools is allow", { approveTools: "allow" }, `Bash allowed: ${JSON.stringify(BASH.input)}`],
    [
      "alwaysDeny names the tool",
      { alwaysDeny: ["Bash"] },
      `Bash denied: Switchboard's workspace "repo" does not allow Bash`,
    ],
    [
      "approveTools is deny",
      { approveTools: "deny", alwaysAsk: ["Edit"] },
      `Bash denied: Switchboard's workspace "repo" does not allow Bash`,
    ],
  ])("answer without asking when %s", async (_what, rules, result) => {
    const repo = await repository();
    const { hub, client } = await toolHub(repo, [BASH], rules);
    const seen: (string | undefined)[] = [];
    const stop = hub.taskContext.document.subscribe(() => {
      seen.push(hub.taskContext.getContext().activeTasks[0]?.status);
    });
    const { taskId } = await client.route({ description: "run the tests", startedFrom: "cli" });
    const done = await finishedTask(hub, taskId);
    stop();
    expect(done.result).toBe(result);
    expect(seen).not.toContain("pending-approval");
  });
});

describe("binding a decision to its tool call", () => {
  it("a decision naming an earlier call is 409 and never decides the call waiting now", async () => {
    const repo = await repository();
    const { hub, client } = await toolHub(repo, [BASH, editOf(repo)]);
    const { taskId } = await client.route({ description: "test then edit", startedFrom: "cli" });
    await waitingTool(hub, taskId);
    const first = task(hub, taskId).awaitingApproval?.id as string;
    await client.approve(taskId, undefined, first);
    await expect
      .poll(() => task(hub, taskId).awaitingApproval?.tool === "Edit", { timeout: 20_000, message: "the second call" })
      .toBeTruthy();
    const second = task(hub, taskId).awaitingApproval?.id as string;
    expect(second).not.toBe(first);

    // A second press of the first call's button, either way: refused, and the Edit still waits.
    for (const press of [
      () => client.approve(taskId, undefined, first),
      () => client.reject(taskId, "no", undefined, first),
    ]) {
      const refused = await press().catch((e: unknown) => e as HubError);
      expect(refused).toBeInstanceOf(HubError);
      expect((refused as HubError).status).toBe(409);
      expect((refused as HubError).message).toMatch(
        /no longer waits on tool call tool_.*; it now waits on Edit notes\.txt/,
      );
      expect(task(hub, taskId)).toMatchObject({ status: "pending-approval", awaitingApproval: { id: second } });
    }

    await client.reject(taskId, "keep it", undefined, second);
    const done = await finishedTask(hub, taskId);
    expect(done.result).toBe(`Bash allowed: ${JSON.stringify(BASH.input)}\nEdit denied: rejected on telegram: keep it`);
  });
});

describe("approvals from each channel", () => {
  it.each(["voice", "telegram", "slack", "dashboard", "cli"] as Channel[])(
    "a tool call approved from %s runs, and the decision records that channel",
    async (channel) => {
      const repo = await repository();
      const { hub } = await toolHub(repo, [BASH]);
      const actor = hubClient(hub, { channel });
      const { taskId } = await actor.route({ description: "run the tests", startedFrom: channel });
      await waitingTool(hub, taskId);
      const approved = await actor.approve(taskId, undefined, task(hub, taskId).awaitingApproval?.id as string);
      expect(approved.approval).toMatchObject({ decision: "approved", channel });
      expect((await finishedTask(hub, taskId)).result).toMatch(/^Bash allowed/);
      actor.close();
    },
  );
});

describe("the approval server's config", () => {
  it("is a 0600 file naming the hub and this run, passed to Claude by path only, removed once Claude ends", async () => {
    const repo = await repository();
    // Claude ends soon after the answer: its process is not kept for the conversation's next turn.
    const { hub, client, log } = await toolHub(repo, [BASH], {}, { router: { conversationKeepMs: 1 } });
    const { taskId } = await client.route({ description: "run the tests", startedFrom: "cli" });
    await waitingTool(hub, taskId);
    const run = (await fakeCliCalls(log)).find((c) => c.argv.includes("--permission-prompt-tool"));
    const argv = run?.argv ?? [];
    expect(argv[argv.indexOf("--permission-prompt-tool") + 1]).toBe("mcp__switchboard__approve");
    const configPath = argv[argv.indexOf("--mcp-config") + 1] as string;
    expect(configPath.startsWith(join(hub.dataDir, "permission-prompts"))).toBe(true);
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    const server = JSON.parse(await readFile(configPath, "utf8")).mcpServers.switchboard;
    expect(server.env).toMatchObject({ SWITCHBOARD_HUB_URL: hub.url });
    expect(server.env.SWITCHBOARD_PERMISSION_RUN).toMatch(/^[0-9a-f]{32}$/);

    await client.approve(taskId);
    await finishedTask(hub, taskId);
    await expect
      .poll(() => permissionPromptFiles(hub.dataDir).length === 0, {
        timeout: 10_000,
        message: "the config to be removed",
      })
      .toBeTruthy();
  });
});
