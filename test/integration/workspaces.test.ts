// Workspaces in a real hub with the fake CLIs: each option reaches the CLI's argv and working
// directory, a request names a workspace and never a path, `GET /api/workspaces` lists them, and
// a folder that is missing stops start-up with one line.
import { realpath, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StartupError } from "../../server/start.ts";
import type { WorkspaceList } from "../../shared/schemas.ts";
import { startFakeOllama } from "../fixtures/fake-ollama.ts";
import { startTestHub } from "../helpers/hub.ts";
import {
  cleanupRouterHubs,
  finishedTask,
  refusal,
  routerHub,
  runCalls,
  workspaceFolder,
} from "../helpers/router-hub.ts";

afterEach(async () => {
  await cleanupRouterHubs();
});

describe("a task in a workspace", () => {
  it("runs claude in the workspace folder with every configured claude option on its command line", async () => {
    const site = await workspaceFolder("site");
    const extra = await workspaceFolder("shared");
    const { hub, client, log } = await routerHub({
      workspaces: {
        site: {
          path: site,
          description: "The web site",
          claude: {
            permissionMode: "acceptEdits",
            allowedTools: ["Read", "Edit"],
            disallowedTools: ["WebFetch"],
            addDirs: [extra],
            maxTurns: 7,
            maxBudgetUsd: 1.5,
          },
        },
      },
    });
    const { taskId } = await client.route({
      description: "fix the failing test",
      startedFrom: "cli",
      workspace: "site",
    });
    expect(hub.taskContext.getActiveTask(taskId)?.workspace).toBe("site");
    await expect
      .poll(() => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), { timeout: 15_000 })
      .toBeTruthy();

    const [call] = await runCalls(log);
    expect(call?.cwd).toBe(site);
    const argv = call?.argv ?? [];
    const flagValue = (flag: string) => argv[argv.indexOf(flag) + 1];
    expect(flagValue("--permission-mode")).toBe("acceptEdits");
    expect(flagValue("--allowedTools")).toBe("Read,Edit");
    expect(flagValue("--disallowedTools")).toBe("WebFetch");
    expect(flagValue("--add-dir")).toBe(extra);
    expect(flagValue("--max-turns")).toBe("7");
    expect(flagValue("--max-budget-usd")).toBe("1.5");
    expect(hub.taskContext.getContext().recentCompleted[0]).toMatchObject({
      taskId,
      status: "complete",
      workspace: "site",
    });
  });

  it("runs codex with -C, --sandbox and --skip-git-repo-check in the workspace folder", async () => {
    const repo = await workspaceFolder("repo");
    const { hub, client, log } = await routerHub({
      backends: { codex: { kind: "codex" } },
      workspaces: { repo: { path: repo, codex: { sandbox: "workspace-write", skipGitRepoCheck: true } } },
    });
    const { taskId } = await client.route({
      description: "rename the trust files",
      startedFrom: "cli",
      workspace: "repo",
    });
    await expect
      .poll(() => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), { timeout: 15_000 })
      .toBeTruthy();
    const [call] = await runCalls(log);
    expect(call?.cwd).toBe(repo);
    expect(call?.argv).toEqual([
      "exec",
      "--json",
      "-C",
      repo,
      "--sandbox",
      "workspace-write",
      "--skip-git-repo-check",
      "-",
    ]);
  });

  it("runs in router.defaultWorkspace when the request names none", async () => {
    const site = await workspaceFolder("site");
    const { hub, client, log } = await routerHub({
      workspaces: { site: { path: site, claude: { permissionMode: "plan" } } },
      router: { defaultWorkspace: "site" },
    });
    const { taskId } = await client.route({ description: "summarise the repository", startedFrom: "voice" });
    expect(hub.taskContext.getActiveTask(taskId)?.workspace).toBe("site");
    await expect
      .poll(() => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), { timeout: 15_000 })
      .toBeTruthy();
    const [call] = await runCalls(log);
    expect(call?.cwd).toBe(site);
    expect(call?.argv).toContain("plan");
  });

  it("runs in the data directory's workspace folder, never the project's directory, without a workspace or a default", async () => {
    const { hub, client, log } = await routerHub();
    const { taskId } = await client.route({ description: "what is 2+2", startedFrom: "cli" });
    expect(hub.taskContext.getActiveTask(taskId)?.workspace).toBeNull();
    await expect
      .poll(() => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), { timeout: 15_000 })
      .toBeTruthy();
    const [call] = await runCalls(log);
    expect(call?.cwd).toBe(join(await realpath(hub.dataDir), "workspace"));
    expect(call?.cwd).not.toBe(process.cwd());
  });
});

describe("Ollama in a workspace", () => {
  it("only answers: it is never told the folder, and GET /api/workspaces does not list it as working there", async () => {
    const site = await workspaceFolder("site");
    const ollama = await startFakeOllama({ models: ["llama3.2"], reply: "local answer" });
    try {
      const { hub, client } = await routerHub({
        backends: { claude: { kind: "claude" }, local: { kind: "ollama", url: ollama.url, model: "llama3.2" } },
        workspaces: { site: { path: site } },
      });
      const { taskId } = await client.route({
        description: "Summarise my notes",
        startedFrom: "cli",
        workspace: "site",
        backend: "local",
      });
      const done = await finishedTask(hub, taskId, 15_000);
      expect(done).toMatchObject({ status: "complete", backend: "local", workspace: "site" });
      const chats = ollama.calls.filter((c) => c.path === "/api/chat");
      expect(chats).toHaveLength(1);
      expect(JSON.stringify(chats[0]?.body)).not.toContain(site);
      const listed = (await (await fetch(`${hub.url}/api/workspaces`)).json()) as WorkspaceList;
      expect(listed.workspaces[0]?.backends).toEqual(["claude"]);
    } finally {
      await ollama.close();
    }
  });
});

describe("refused workspaces", () => {
  it.each([
    ["an unknown name", "nope", /no workspace named "nope" \(configured: site; see GET \/api\/workspaces\)/],
    [
      "an absolute path",
      "/etc",
      /"\/etc" looks like a path; a request names a workspace, never a folder \(configured: site/,
    ],
    ["a relative path", "../site", /looks like a path.*configured: site/],
  ])("%s is 400 naming the configured workspaces, and no task is added", async (_what, workspace, message) => {
    const site = await workspaceFolder("site");
    const { hub, client, log } = await routerHub({ workspaces: { site: { path: site } } });
    const version = hub.taskContext.document.version;
    const error = await refusal(client.route({ description: "x", startedFrom: "cli", workspace }));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(message);
    expect(hub.taskContext.document.version).toBe(version);
    expect(await runCalls(log)).toEqual([]);
  });

  it("a hub without workspaces names none in the refusal", async () => {
    const { client } = await routerHub();
    const error = await refusal(client.route({ description: "x", startedFrom: "cli", workspace: "site" }));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/no workspace named "site" \(none is configured/);
  });
});

describe("GET /api/workspaces", () => {
  it("lists names, descriptions, the default and which backends work there, without folder paths", async () => {
    const site = await workspaceFolder("site");
    const docs = await workspaceFolder("docs");
    const { hub } = await routerHub({
      backends: { claude: { kind: "claude" }, codex: { kind: "codex" }, local: { kind: "ollama", enabled: false } },
      workspaces: {
        site: { path: site, description: "The web site", claude: { permissionMode: "acceptEdits" } },
        docs: { path: docs, codex: { sandbox: "read-only" } },
      },
      router: { defaultWorkspace: "docs" },
    });
    const response = await fetch(`${hub.url}/api/workspaces`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toEqual({
      default: "docs",
      workspaces: [
        {
          name: "site",
          description: "The web site",
          default: false,
          backends: ["claude", "codex"],
          claude: { permissionMode: "acceptEdits", approveTools: "ask" },
          codex: { sandbox: null },
        },
        {
          name: "docs",
          description: null,
          default: true,
          backends: ["claude", "codex"],
          claude: { permissionMode: null, approveTools: "ask" },
          codex: { sandbox: "read-only" },
        },
      ],
    });
    expect(JSON.stringify(body)).not.toContain(site);
  });
});

describe("start-up checks", () => {
  it.each([
    [
      "is missing",
      async (root: string) => join(root, "gone"),
      /workspaces\.site\.path .*gone does not exist; create the folder or fix the path/,
    ],
    [
      "is a file",
      async (root: string) => {
        await writeFile(join(root, "file"), "x");
        return join(root, "file");
      },
      /workspaces\.site\.path .*file is not a directory/,
    ],
  ])("a workspace folder that %s stops the hub with one line", async (_what, make, message) => {
    const root = await workspaceFolder("root");
    const path = await make(root);
    const error = await startTestHub({ config: { workspaces: { site: { path } } } }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(StartupError);
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain("\n");
  });
});
