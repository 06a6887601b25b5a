import { afterEach, describe, expect, test } from "vitest";
import { allTasks, cleanupRouterHubs, routerHub } from "../helpers/router-hub.ts";
import { skipWithoutBrowser } from "./chromium.ts";
import { liveDashboards } from "./dashboard-page.ts";

/** An answer with structure, a link, and markup that must never run or become elements. */
const MARKDOWN_ANSWER = [
  "# Result",
  "",
  "The invoices total **4,200 euros**; see [the ledger](https://example.com/ledger).",
  "",
  "- three are overdue",
  "- one is disputed",
  "",
  '<script>window.pwned = "script"</script>',
  '<img src="x" onerror="window.pwned = \'img\'">',
  "[click me](javascript:window.pwned='link')",
].join("\n");

const openDashboard = liveDashboards();

afterEach(async () => {
  await cleanupRouterHubs();
});

describe.skipIf(skipWithoutBrowser)("dashboard conversation", () => {
  test("the New task form starts a routed task from the dashboard on Enter, offers the backends, and says what started", async () => {
    const { hub } = await routerHub();
    const { page, problems } = await openDashboard(hub);
    const form = page.locator("form#new-task-form");
    await form
      .getByRole("combobox", { name: "Backend" })
      .locator('option[value="claude"]')
      .waitFor({ state: "attached" });
    expect(await form.locator("option").allTextContents()).toEqual(["any (the router chooses)", "claude (warm)"]);

    await form.getByLabel("What should it do?").fill("Summarise the quarterly report");
    await form.getByRole("combobox", { name: "Backend" }).selectOption("claude");
    await form.getByLabel("What should it do?").press("Enter");

    await page.locator('#new-task-outcome[data-kind="ok"]').waitFor();
    const [task] = allTasks(hub);
    expect(task).toMatchObject({
      description: "Summarise the quarterly report",
      startedFrom: "dashboard",
      backend: "claude",
    });
    expect(await page.locator("#new-task-outcome").textContent()).toBe(
      `Started your task “Summarise the quarterly report” (${task?.taskId}). Its card is in the live queue.`,
    );
    expect(await form.getByLabel("What should it do?").inputValue()).toBe("");
    await page.locator(`[data-task-id="${task?.taskId}"]`).first().waitFor();
    expect(problems).toEqual([]);
  });

  test("an empty description is not sent, and a refusal from the hub is shown with its reason", async () => {
    const { hub } = await routerHub();
    const { page } = await openDashboard(hub);
    const form = page.locator("form#new-task-form");
    await form.getByRole("button", { name: "Start task" }).click();
    // The browser's own check stops an empty form: nothing reaches the hub.
    expect(
      await form.getByLabel("What should it do?").evaluate((el) => (el as HTMLTextAreaElement).validity.valueMissing),
    ).toBe(true);
    await form.getByLabel("What should it do?").fill("Use a backend that does not exist");
    await form.getByRole("combobox", { name: "Backend" }).evaluate((select) => {
      (select as HTMLSelectElement).add(new Option("nosuch", "nosuch"));
      (select as HTMLSelectElement).value = "nosuch";
    });
    await form.getByRole("button", { name: "Start task" }).click();
    await page.locator('#new-task-outcome[data-kind="error"]').waitFor();
    expect(await page.locator("#new-task-outcome").textContent()).toMatch(/^Could not start the task: .*nosuch/);
    expect(allTasks(hub)).toEqual([]);
  });

  test("the answer shows on the card as Markdown with nothing that runs, links open with rel=noopener, and the transcript is one click away", async () => {
    const { hub } = await routerHub({ modes: { FAKE_CLI_REPLY: MARKDOWN_ANSWER } });
    const { page, problems } = await openDashboard(hub);
    await page.getByLabel("What should it do?").fill("Total the invoices");
    await page.getByLabel("What should it do?").press("Enter");
    await page.locator('#new-task-outcome[data-kind="ok"]').waitFor();
    const taskId = allTasks(hub)[0]?.taskId as string;

    const row = page.locator(`#finished-list [data-task-id="${taskId}"]`);
    const answer = row.locator(".answer").first();
    await answer.locator("h1").waitFor();
    expect(await answer.locator("h1").textContent()).toBe("Result");
    expect(await answer.locator("strong").textContent()).toBe("4,200 euros");
    expect(await answer.locator("li").allTextContents()).toEqual(["three are overdue", "one is disputed"]);
    const link = answer.getByRole("link", { name: "the ledger" });
    expect(await link.getAttribute("href")).toBe("https://example.com/ledger");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await answer.locator("script, img, iframe, [onerror]").count()).toBe(0);
    expect(await answer.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(await answer.textContent()).toContain('<script>window.pwned = "script"</script>');
    expect(await page.evaluate(() => (window as unknown as { pwned?: string }).pwned)).toBeUndefined();

    await row.getByText("Transcript").click();
    const entry = row.locator(".transcript .entry");
    await entry.waitFor();
    expect(await entry.locator(".when").textContent()).toBe("Step 1: Total the invoices · claude");
    expect(await entry.locator("h1").textContent()).toBe("Result");
    expect(await entry.locator("script, img").count()).toBe(0);
    expect(problems).toEqual([]);
  });

  test("a follow-up typed on a finished task's card reopens it in the same conversation, and its answer joins the card", async () => {
    const { hub } = await routerHub();
    const { page, problems } = await openDashboard(hub);
    await page.getByLabel("What should it do?").fill("Gather the 2022 invoices");
    await page.getByLabel("What should it do?").press("Enter");
    await page.locator('#new-task-outcome[data-kind="ok"]').waitFor();
    const taskId = allTasks(hub)[0]?.taskId as string;
    const row = page.locator(`#finished-list [data-task-id="${taskId}"]`);
    await row.locator(".answer p").waitFor();

    const input = row.getByRole("textbox", { name: "Follow-up for Gather the 2022 invoices" });
    await input.fill("and also check the 2023 files");
    await input.press("Enter");
    // The task reopens: its card moves to the live queue, and back to Recently finished when done.

    const card = page.locator(`#finished-list [data-task-id="${taskId}"]`);
    await card.locator(".answer h2").nth(1).waitFor();
    expect(await card.locator(".answer h2").allTextContents()).toEqual([
      "1. Gather the 2022 invoices",
      "2. and also check the 2023 files",
    ]);
    expect(await card.locator(".answer").first().textContent()).toContain("echo: and also check the 2023 files");
    const transcript = await fetch(`${hub.url}/api/context/tasks/${taskId}/transcript`).then((r) => r.json());
    expect((transcript as { entries: { from: string | null }[] }).entries.map((e) => e.from)).toEqual([
      null,
      "dashboard",
    ]);
    expect(allTasks(hub)).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});
