// `switchboard` and workspaces, as a child process against a real hub with the router and the
// fake claude: `workspaces` lists them, `new`/`route --workspace` start a task in one (a path is
// refused), and `status`/`approve`/`reject` act on a tool call Claude asks about, bound to it.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fakeCliCalls } from "../fixtures/fake-cli-env.ts";
import { runCli } from "../helpers/cli.ts";
import {
  allTasks,
  cleanupRouterHubs,
  finishedTask,
  routerHub,
  toolWaiting,
  workspaceFolder,
} from "../helpers/router-hub.ts";

afterEach(async () => {
  await cleanupRouterHubs();
});

const BASH = { tool_name: "Bash", input: { command: "npm test", description: "Run the tests" } };

describe("switchboard workspaces", () => {
  it("lists each workspace with its description, the default, how claude and codex may act there, and which backends work there; --json is GET /api/workspaces", async () => {
    const site = await workspaceFolder("site");
    const docs = await workspaceFolder("docs");
    const { hub } = await routerHub({
      backends: { claude: { kind: "claude" }, codex: { kind: "codex" } },
      workspaces: {
        site: {
          path: site,
          description: "The web site",
          claude: { permissionMode: "acceptEdits" },
          codex: { sandbox: "workspace-write" },
        },
        docs: { path: docs, claude: { approveTools: "deny" } },
      },
      router: { defaultWorkspace: "site" },
    });
    const text = await runCli(["workspaces", "--hub", hub.url]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")).toEqual([
      "site — The web site (default)",
      "  claude: acceptEdits, asks you before other tools · codex: workspace-write",
      "  works there: claude, codex",
      "docs",
      "  claude: its own permission mode, denies other tools · codex: its own sandbox",
      "  works there: claude, codex",
    ]);
    expect(text.stdout).not.toContain(site);
    expect(hub.taskContext.getChannelState("cli").lastActive).not.toBeNull();

    const json = await runCli(["workspaces", "--json", "--hub", hub.url]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await (await fetch(`${hub.url}/api/workspaces`)).json());
  });

  it("says where tasks run when no workspace is configured", async () => {
    const { hub } = await routerHub();
    const { code, stdout } = await runCli(["workspaces", "--hub", hub.url]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^No workspace is configured: tasks run in the hub's data directory/);
  });
});

describe("new and route --workspace", () => {
  it.each([
    ["new", ["new", "fix the failing test", "--workspace", "site"]],
    ["route", ["route", "fix the failing test", "--workspace", "site"]],
  ])("%s --workspace runs the task's claude in that workspace's folder and the task shows it", async (_, args) => {
    const site = await workspaceFolder("site");
    const { hub, log } = await routerHub({
      workspaces: { site: { path: site, claude: { permissionMode: "acceptEdits" } } },
    });
    const { code } = await runCli([...args, "--hub", hub.url]);
    expect(code).toBe(0);
    const [task] = allTasks(hub);
    expect(task).toMatchObject({ description: "fix the failing test", startedFrom: "cli", workspace: "site" });
    await finishedTask(hub, task?.taskId as string);
    const run = (await fakeCliCalls(log)).find((c) => c.argv.includes("--input-format"));
    expect(run?.cwd).toBe(site);
    expect(run?.argv[(run?.argv.indexOf("--permission-mode") ?? 0) + 1]).toBe("acceptEdits");
  });

  it.each([
    [
      "a path",
      "../site",
      /"\.\.\/site" looks like a path; a request names a workspace, never a folder \(configured: site/,
    ],
    ["an unknown name", "blog", /there is no workspace named "blog" \(configured: site/],
  ])(
    "new --workspace with %s is refused: exit 1 with the hub's 400 naming the configured workspaces, no task",
    async (_, name, message) => {
      const site = await workspaceFolder("site");
      const { hub } = await routerHub({ workspaces: { site: { path: site } } });
      const { code, stderr } = await runCli(["new", "fix it", "--workspace", name, "--hub", hub.url]);
      expect(code).toBe(1);
      expect(stderr).toMatch(message);
      expect(stderr).toMatch(/\(400 invalid_input\)$/);
      expect(allTasks(hub)).toEqual([]);
    },
  );
});

describe("a tool call from the command line", () => {
  it("status shows the call and its command; approve without options reads the waiting call, decides it and names it", async () => {
    const repo = await workspaceFolder("repo");
    const { hub } = await routerHub({
      workspaces: { repo: { path: repo, claude: { permissionMode: "default" } } },
      router: { defaultWorkspace: "repo" },
      modes: { FAKE_CLAUDE_TOOL_CALLS: JSON.stringify([BASH]) },
    });
    const started = await runCli(["new", "run the tests", "--hub", hub.url]);
    const taskId = /: (route_\S+)\.$/.exec(started.stdout)?.[1] as string;
    await toolWaiting(hub, taskId, "Bash");
    const waiting = hub.taskContext.getActiveTask(taskId)?.awaitingApproval;

    const status = await runCli(["status", "--hub", hub.url]);
    expect(status.stdout.split("\n")).toEqual([
      "One task waiting for you.",
      `  ${taskId}: Your task “run the tests” is waiting for your approval: Bash: npm test.`,
      "      npm test",
      "Backends: claude is warm.",
    ]);

    const approved = await runCli(["approve", taskId, "--hub", hub.url]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/\(tool call Bash: npm test approved\)$/);
    expect(approved.stdout).not.toMatch(/step 1 approved/);
    expect(allTasks(hub).find((t) => t.taskId === taskId)?.approval).toMatchObject({
      decision: "approved",
      channel: "cli",
      step: 1,
      id: waiting?.id,
    });
    expect((await finishedTask(hub, taskId)).result).toBe(`Bash allowed: ${JSON.stringify(BASH.input)}`);
  });

  it("reject --approval with an earlier call's id is refused (exit 1, 409) and leaves the waiting call; reject --reason denies it and the task goes on", async () => {
    const repo = await workspaceFolder("repo");
    await writeFile(join(repo, "notes.txt"), "one\ntwo\n");
    const edit = {
      tool_name: "Edit",
      input: { file_path: join(repo, "notes.txt"), old_string: "two", new_string: "TWO" },
    };
    const { hub } = await routerHub({
      workspaces: { repo: { path: repo } },
      router: { defaultWorkspace: "repo" },
      modes: { FAKE_CLAUDE_TOOL_CALLS: JSON.stringify([BASH, edit]) },
    });
    const started = await runCli(["new", "test then edit", "--hub", hub.url]);
    const taskId = /: (route_\S+)\.$/.exec(started.stdout)?.[1] as string;
    const first = await toolWaiting(hub, taskId, "Bash");
    expect((await runCli(["approve", taskId, "--approval", first, "--hub", hub.url])).code).toBe(0);
    await toolWaiting(hub, taskId, "Edit");

    const stale = await runCli(["reject", taskId, "--approval", first, "--hub", hub.url]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/no longer waits on tool call .*; it now waits on Edit notes\.txt.*\(409 conflict\)$/);
    expect(hub.taskContext.getActiveTask(taskId)).toMatchObject({
      status: "pending-approval",
      awaitingApproval: { tool: "Edit" },
    });

    const rejected = await runCli(["reject", taskId, "--reason", "keep it", "--hub", hub.url]);
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toMatch(/\(tool call Edit notes\.txt rejected\)$/);
    const done = await finishedTask(hub, taskId);
    expect(done.status).toBe("complete");
    expect(done.result).toBe(`Bash allowed: ${JSON.stringify(BASH.input)}\nEdit denied: rejected on cli: keep it`);
  });
});
