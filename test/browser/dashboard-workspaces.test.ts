// Workspaces and tool approvals on the dashboard, in Chromium against a real hub with the router
// and the fake claude: the New task form's workspace choice (from GET /api/workspaces, the default
// preselected), an Edit Claude asks about shown as a diff, a Bash call shown as its command, and
// the card's buttons deciding that one call.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { fakeCliCalls } from "../fixtures/fake-cli-env.ts";
import { allTasks, cleanupRouterHubs, finishedTask, routerHub, workspaceFolder } from "../helpers/router-hub.ts";
import { skipWithoutBrowser } from "./chromium.ts";
import { liveDashboards } from "./dashboard-page.ts";

const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url);
const PHONE = { width: 390, height: 844 };

const openDashboard = liveDashboards();

afterEach(async () => {
  await cleanupRouterHubs();
});

/** A hub whose claude asks about `calls`, in workspace "repo" (the default). */
async function toolHub(repo: string, calls: unknown[]) {
  return routerHub({
    workspaces: { repo: { path: repo, claude: { permissionMode: "default" } } },
    router: { defaultWorkspace: "repo" },
    modes: { FAKE_CLAUDE_TOOL_CALLS: JSON.stringify(calls) },
  });
}

describe.skipIf(skipWithoutBrowser)("the New task form's workspace", () => {
  test("offers the configured workspaces from GET /api/workspaces, the default preselected, and starts the task in the one chosen", async () => {
    const site = await workspaceFolder("site");
    const docs = await workspaceFolder("docs");
    const { hub, log } = await routerHub({
      workspaces: {
        site: { path: site, description: "The web site", claude: { permissionMode: "acceptEdits" } },
        docs: { path: docs },
      },
      router: { defaultWorkspace: "docs" },
      // The run stays running, so its card stays in the live queue.
      modes: { FAKE_CLAUDE_HANG: "run" },
    });
    const { page, problems } = await openDashboard(hub);
    const form = page.locator("form#new-task-form");
    const workspace = form.getByRole("combobox", { name: "Workspace" });
    await workspace.locator('option[value="site"]').waitFor({ state: "attached" });
    expect(await workspace.locator("option").allTextContents()).toEqual(["site — The web site", "docs (default)"]);
    expect(await workspace.inputValue()).toBe("docs");

    await workspace.selectOption("site");
    await form.getByLabel("What should it do?").fill("Fix the failing test");
    await form.getByLabel("What should it do?").press("Enter");
    await page.locator('#new-task-outcome[data-kind="ok"]').waitFor();
    const [task] = allTasks(hub);
    expect(task).toMatchObject({ description: "Fix the failing test", startedFrom: "dashboard", workspace: "site" });
    expect(await page.locator("#new-task-outcome").textContent()).toBe(
      `Started your task “Fix the failing test” in workspace site (${task?.taskId}). Its card is in the live queue.`,
    );
    // Its card says which workspace it works in; claude runs in that folder.
    const card = page.locator(`#queue-list [data-task-id="${task?.taskId}"]`);
    expect(await card.locator(".workspace").textContent()).toBe("workspace site");
    const runOf = async () => (await fakeCliCalls(log)).find((c) => c.argv.includes("--input-format"));
    await expect
      .poll(async () => (await runOf()) !== undefined, { timeout: 10_000, message: "claude to start" })
      .toBeTruthy();
    expect((await runOf())?.cwd).toBe(site);
    // The person's choice stays for the next task.
    expect(await workspace.inputValue()).toBe("site");
    expect(problems).toEqual([]);
  });

  test("with no workspace configured, the form offers no workspace choice and the task names none", async () => {
    const { hub } = await routerHub();
    const { page } = await openDashboard(hub);
    expect(await page.locator("#new-task-workspace-choice").isHidden()).toBe(true);
    await page.getByLabel("What should it do?").fill("What is 2+2");
    await page.getByLabel("What should it do?").press("Enter");
    await page.locator('#new-task-outcome[data-kind="ok"]').waitFor();
    expect(allTasks(hub)[0]?.workspace).toBeNull();
  });
});

describe.skipIf(skipWithoutBrowser)("a tool approval on the dashboard", () => {
  test("an Edit shows as a diff, removed and added lines marked and coloured, and Approve lets that edit reach the file", async () => {
    const repo = await workspaceFolder("repo");
    await writeFile(join(repo, "notes.txt"), "one\ntwo\nthree\n");
    const edit = {
      tool_name: "Edit",
      input: { file_path: join(repo, "notes.txt"), old_string: "two", new_string: "TWO" },
    };
    const { hub, client } = await toolHub(repo, [edit]);
    const { page, problems } = await openDashboard(hub);
    const { taskId } = await client.route({ description: "Capitalise two", startedFrom: "telegram" });

    const card = page.locator(`#approvals-list [data-task-id="${taskId}"]`);
    await card.locator('pre[data-kind="diff"]').waitFor();
    expect(await card.locator(".approval-title").textContent()).toBe("Edit notes.txt");
    const diff = card.locator(".approval-what");
    expect(await diff.getAttribute("aria-label")).toBe("changes: Edit notes.txt");
    expect(await diff.locator(".diff-file").allTextContents()).toEqual(["--- notes.txt", "+++ notes.txt"]);
    expect(await diff.locator(".diff-hunk").allTextContents()).toEqual(["@@ -1,3 +1,3 @@"]);
    expect(await diff.locator("del.diff-remove").allTextContents()).toEqual(["-two"]);
    expect(await diff.locator("ins.diff-add").allTextContents()).toEqual(["+TWO"]);
    expect(await diff.locator(".diff-context").allTextContents()).toEqual([" one", " three"]);
    // Styled: an added line green, a removed one red, an unchanged one neither; one line each.
    const look = (selector: string) =>
      diff
        .locator(selector)
        .first()
        .evaluate((line) => {
          const style = getComputedStyle(line);
          return { background: style.backgroundColor, display: style.display, decoration: style.textDecorationLine };
        });
    expect(await look("ins.diff-add")).toEqual({
      background: "rgb(220, 252, 231)",
      display: "block",
      decoration: "none",
    });
    expect(await look("del.diff-remove")).toEqual({
      background: "rgb(254, 226, 226)",
      display: "block",
      decoration: "none",
    });
    expect((await look(".diff-context")).background).toBe("rgba(0, 0, 0, 0)");

    // At phone width the diff scrolls inside its card, never the page sideways.
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: new URL("dashboard-tool-diff-phone.png", ARTIFACTS).pathname, fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    const waiting = hub.taskContext.getActiveTask(taskId)?.awaitingApproval;
    await card.getByRole("button", { name: "Approve Capitalise two" }).click();
    await card.waitFor({ state: "detached" });
    const done = await finishedTask(hub, taskId);
    expect(done.approval).toMatchObject({ decision: "approved", channel: "dashboard", id: waiting?.id });
    expect(done.result).toBe(`Edit allowed: ${JSON.stringify(edit.input)}`);
    expect(await readFile(join(repo, "notes.txt"), "utf8")).toBe("one\nTWO\nthree\n");
    expect(problems).toEqual([]);
  });

  test("a Bash call shows its command as code, and Reject tells Claude no while the task goes on", async () => {
    const repo = await workspaceFolder("repo");
    const bash = { tool_name: "Bash", input: { command: "npm test -- --run\nrm -rf build" } };
    const { hub, client } = await toolHub(repo, [bash]);
    const { page, problems } = await openDashboard(hub);
    const { taskId } = await client.route({ description: "Run the tests", startedFrom: "telegram" });

    const card = page.locator(`#approvals-list [data-task-id="${taskId}"]`);
    const command = card.locator('pre[data-kind="command"] > code.command');
    await command.waitFor();
    expect(await card.locator(".approval-title").textContent()).toBe("Bash: npm test -- --run");
    expect(await command.textContent()).toBe("npm test -- --run\nrm -rf build");
    expect(await card.locator('pre[data-kind="command"]').getAttribute("aria-label")).toBe("command");

    await card.getByRole("button", { name: "Reject Run the tests" }).click();
    await page.locator('#approval-outcome[data-kind="ok"]').waitFor();
    const done = await finishedTask(hub, taskId);
    expect(done.status).toBe("complete");
    expect(done.result).toBe("Bash denied: rejected on dashboard");
    await card.waitFor({ state: "detached" });
    expect(problems).toEqual([]);
  });
});
