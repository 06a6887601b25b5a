// The dashboard in a real browser (Debian's Chromium via playwright-core) against a real hub on a
// random loopback port: live updates without reload or polling, approvals, backend health,
// reconnection after a hub restart, token handling, phone width. Screenshots go to test-artifacts/.
import { mkdir } from "node:fs/promises";
import type { Page } from "playwright-core";
import { afterEach, describe, expect, test } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import type { BackendHealth, Health } from "../../shared/schemas.ts";
import { fakeCliEnv } from "../fixtures/fake-cli-env.ts";
import { hubClient, startTestHub, type TestHub } from "../helpers/hub.ts";
import { skipWithoutBrowser } from "./chromium.ts";
import { dashboardBrowser } from "./dashboard-page.ts";

const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url);
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

const browser = dashboardBrowser();
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function hubWithRest(
  options: Parameters<typeof startTestHub>[0] = {},
): Promise<{ hub: TestHub; rest: HubClient }> {
  const hub = await startTestHub(options);
  cleanups.push(() => hub.stop());
  return { hub, rest: hubClient(hub, options.token ? { token: options.token } : {}) };
}

/** Opens the dashboard and waits until it is live (subscribed and holding both documents). */
async function openDashboard(url: string, viewport = DESKTOP): Promise<Page> {
  const page = await browser().context.newPage();
  cleanups.push(() => page.close());
  await page.setViewportSize(viewport);
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  // Console errors include Content-Security-Policy violations; a refused WebSocket while the hub
  // restarts is expected and retried.
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("WebSocket connection to")) {
      problems.push(message.text());
    }
  });
  cleanups.push(async () => expect(problems, "errors in the page or its console").toEqual([]));
  await page.goto(url);
  await page.locator('#connection[data-state="live"]').waitFor();
  // Marks this document: a reload would lose the mark.
  await page.evaluate(() => {
    (window as unknown as { sameDocument: boolean }).sameDocument = true;
  });
  return page;
}

function stillSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);
}

/** Collects every HTTP request the page makes from now on (the WebSocket is not one). */
function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (request) => urls.push(`${request.method()} ${request.url()}`));
  return urls;
}

const queueCard = (page: Page, taskId: string) => page.locator(`#queue-list [data-task-id="${taskId}"]`);
const finishedRow = (page: Page, taskId: string) => page.locator(`#finished-list [data-task-id="${taskId}"]`);
const backendRow = (page: Page, name: string) => page.locator(`#backends-list [data-backend="${name}"]`);

function backendEntry(overrides: Partial<BackendHealth> = {}): BackendHealth {
  const now = new Date().toISOString();
  return {
    kind: "claude-code",
    status: "healthy",
    reason: null,
    version: "2.1.4 (Claude Code)",
    authMethod: "subscription",
    latencyMs: 420,
    lastPing: now,
    lastSuccess: now,
    consecutiveFailures: 0,
    nextPingAt: null,
    loadedModels: [],
    latencyHistory: [
      { at: now, ms: 380 },
      { at: now, ms: 510 },
      { at: now, ms: 420 },
    ],
    prewarmed: [],
    ...overrides,
  };
}

function setBackend(hub: TestHub, name: string, entry: BackendHealth) {
  return hub.health.mutate(
    (state): Health => ({
      lastUpdated: new Date().toISOString(),
      backends: { ...state.backends, [name]: entry },
    }),
  );
}

describe.skipIf(skipWithoutBrowser)("dashboard in Chromium", () => {
  test("is served by the hub at / without a token, while the API still needs one", async () => {
    const { hub } = await hubWithRest({ token: "s3cret-token" });
    const page = await browser().context.newPage();
    cleanups.push(() => page.close());
    const response = await page.goto(hub.url);
    expect(response?.status()).toBe(200);
    expect(await page.locator("h1").textContent()).toBe("Switchboard");
    const headers = response?.headers() ?? {};
    expect(headers["content-security-policy"]).toContain("default-src 'self'");
    expect(headers["referrer-policy"]).toBe("no-referrer");
    expect(headers["cache-control"]).toBe("no-cache");
    const script = await page.locator("script[type=module]").getAttribute("src");
    const asset = await fetch(new URL(script ?? "", `${hub.url}/`));
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${hub.url}/api/context`)).status).toBe(401);
  });

  test("a task added through REST appears within one second, with no reload and no request from the page", async () => {
    const { hub, rest } = await hubWithRest();
    const page = await openDashboard(hub.url);
    const requests = recordRequests(page);

    await rest.addTask({
      taskId: "route_trust",
      description: "Analyze trust documents",
      startedFrom: "voice",
      status: "queued",
      plan: { steps: [{ title: "Read" }, { title: "Compare" }, { title: "Summarise" }, { title: "Write" }] },
      totalSteps: 4,
    });

    const card = queueCard(page, "route_trust");
    await card.waitFor({ timeout: 1000 });
    expect(await card.locator(".description").textContent()).toBe("Analyze trust documents");
    expect(await card.locator(".badge").textContent()).toBe("queued");
    expect(await card.locator(".channel").textContent()).toBe("from voice");
    expect(await stillSameDocument(page)).toBe(true);
    expect(requests).toEqual([]);
  });

  test("text from tasks is shown as text, never run as markup", async () => {
    const { hub, rest } = await hubWithRest();
    const page = await openDashboard(hub.url);
    const hostile = '<img src=x onerror="window.pwned=1"><b>bold</b>';
    await rest.addTask({ taskId: "route_markup", description: hostile, startedFrom: "cli", lastUpdate: hostile });
    const card = queueCard(page, "route_markup");
    await card.waitFor();
    expect(await card.locator(".description").textContent()).toBe(hostile);
    expect(await card.locator("img, b").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });

  test("the progress bar, step sentence and time left move on updateTask", async () => {
    const { hub, rest } = await hubWithRest();
    const page = await openDashboard(hub.url);
    await rest.addTask({ taskId: "route_move", description: "Refactor the parser", startedFrom: "cli", totalSteps: 4 });
    const card = queueCard(page, "route_move");
    await card.waitFor();
    expect(await card.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("0");

    await rest.updateTask("route_move", {
      status: "running",
      currentStep: 2,
      progress: 0.5,
      lastUpdate: "step 2 started",
      eta: new Date(Date.now() + 12 * 60_000 + 20_000).toISOString(),
      backend: "claude",
      start: "warm",
    });

    await page.locator('#queue-list [data-task-id="route_move"] [role="progressbar"][aria-valuenow="50"]').waitFor();
    expect(await card.locator(".percent").textContent()).toBe("50%");
    expect(await card.locator(".badge").textContent()).toBe("running");
    expect(await card.locator(".step").textContent()).toContain("step 2 of 4");
    expect(await card.locator(".step").textContent()).toContain("step 2 started");
    expect(await card.locator(".eta").textContent()).toContain("12 minutes");
    expect(await card.locator(".backend").textContent()).toBe("claude · warm start");
    const fillWidth = await card.locator(".bar-fill").evaluate((fill) => (fill as HTMLElement).style.width);
    expect(fillWidth).toBe("50%");
    expect(await stillSameDocument(page)).toBe(true);
  });

  test("completeTask moves the task to Recently finished with its output path, and a failure with its error", async () => {
    const { hub, rest } = await hubWithRest();
    const page = await openDashboard(hub.url);
    await rest.addTask({ taskId: "route_done", description: "Write the report", startedFrom: "telegram" });
    await rest.addTask({ taskId: "route_bad", description: "Deploy the site", startedFrom: "slack" });
    await queueCard(page, "route_bad").waitFor();

    await rest.completeTask("route_done", { outputPath: "artifacts/report.md" });
    await rest.completeTask("route_bad", { status: "failed", error: "the build failed: missing vite.config.ts" });

    const done = finishedRow(page, "route_done");
    await done.waitFor();
    await finishedRow(page, "route_bad").waitFor();
    expect(await queueCard(page, "route_done").count()).toBe(0);
    expect(await queueCard(page, "route_bad").count()).toBe(0);
    expect(await done.locator(".badge").textContent()).toBe("complete");
    expect(await done.locator(".detail").textContent()).toBe("output: artifacts/report.md");
    expect(await done.locator(".when").textContent()).toBe("finished just now");
    expect(await finishedRow(page, "route_bad").locator(".detail").textContent()).toBe(
      "error: the build failed: missing vite.config.ts",
    );
    // Newest first, as in recentCompleted.
    expect(
      await page.locator("#finished-list > li").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-task-id"))),
    ).toEqual(["route_bad", "route_done"]);
  });

  test("a backend flipping to dead shows the reason next to a coloured indicator and a text label", async () => {
    const { hub } = await hubWithRest();
    await setBackend(hub, "claude", backendEntry());
    const page = await openDashboard(hub.url);
    const row = backendRow(page, "claude");
    await row.waitFor();
    expect(await row.locator(".status-label").textContent()).toBe("healthy");
    expect(await row.locator(".pinged").textContent()).toBe("pinged just now");
    expect(await row.locator(".version").textContent()).toBe("2.1.4 (Claude Code)");
    expect(await row.locator(".reason").isVisible()).toBe(false);
    expect(await row.locator(".latency-chart polyline").getAttribute("points")).not.toBe("");
    const healthyColour = await row.locator(".indicator").evaluate((dot) => getComputedStyle(dot).backgroundColor);

    await setBackend(
      hub,
      "claude",
      backendEntry({ status: "dead", reason: "not logged in: run `claude login`", consecutiveFailures: 1 }),
    );

    await page.locator('#backends-list [data-backend="claude"][data-status="dead"]').waitFor();
    expect(await row.locator(".status-label").textContent()).toBe("dead");
    expect(await row.locator(".reason").textContent()).toBe("not logged in: run `claude login`");
    expect(await row.locator(".reason").isVisible()).toBe(true);
    const deadColour = await row.locator(".indicator").evaluate((dot) => getComputedStyle(dot).backgroundColor);
    expect(deadColour).not.toBe(healthyColour);
  });

  test("a limited backend shows until when and why, in its own colour", async () => {
    const { hub } = await hubWithRest();
    await setBackend(hub, "claude", backendEntry());
    const page = await openDashboard(hub.url);
    const row = backendRow(page, "claude");
    await row.waitFor();
    const healthyColour = await row.locator(".indicator").evaluate((dot) => getComputedStyle(dot).backgroundColor);
    const until = new Date(Date.now() + 2 * 3_600_000).toISOString();
    await setBackend(
      hub,
      "claude",
      backendEntry({ status: "limited", limitedUntil: until, limitReason: "five-hour limit reached" }),
    );
    await page.locator('#backends-list [data-backend="claude"][data-status="limited"]').waitFor();
    const shown = await page.evaluate(
      (iso) =>
        new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
          new Date(iso),
        ),
      until,
    );
    expect(await row.locator(".status-label").textContent()).toMatch(
      new RegExp(`^limited until (\\w+ \\d+, )?${shown}$`),
    );
    expect(await row.locator(".reason").textContent()).toBe("five-hour limit reached");
    const limitedColour = await row.locator(".indicator").evaluate((dot) => getComputedStyle(dot).backgroundColor);
    expect(limitedColour).not.toBe(healthyColour);
  });

  test("the usage panel shows today and the last 7 days per backend with a bar per day, updated live as runs are recorded", async () => {
    const { hub } = await hubWithRest();
    const page = await openDashboard(hub.url);
    const requests = recordRequests(page);
    expect(await page.locator("#usage .empty").isVisible()).toBe(true);
    await hub.usage.record("claude", {
      costUsd: 0.0123,
      inputTokens: 100,
      outputTokens: 20,
      cacheReadTokens: 50,
      turns: 1,
    });
    const row = page.locator('#usage-list [data-backend="claude"]');
    await row.waitFor();
    expect(await row.locator(".usage-today").textContent()).toBe("today: 1 run, 100 in / 20 out tokens, $0.01");
    expect(await row.locator(".usage-week").textContent()).toBe("7 days: 1 run, 100 in / 20 out tokens, $0.01");
    expect(await row.locator(".usage-chart rect").count()).toBe(7);
    // Today's bar is the last one and the busiest: full height.
    expect(await row.locator(".usage-chart rect").last().getAttribute("height")).toBe("32.0");
    expect(await row.locator(".usage-chart rect").first().getAttribute("height")).toBe("0.0");

    await hub.usage.record("claude", { costUsd: 0.02, inputTokens: 200, outputTokens: 40, turns: 1 });
    await page.waitForFunction(() =>
      document
        .querySelector('#usage-list [data-backend="claude"] .usage-today')
        ?.textContent?.startsWith("today: 2 runs"),
    );
    expect(await row.locator(".usage-today").textContent()).toBe("today: 2 runs, 300 in / 60 out tokens, $0.03");
    expect(await page.locator("#usage .empty").isVisible()).toBe(false);
    expect(await stillSameDocument(page)).toBe(true);
    expect(requests).toEqual([]);
  });

  test("a redraw for another change leaves the usage chart's bars untouched, and a new run updates the same bars", async () => {
    const { hub, rest } = await hubWithRest();
    const page = await openDashboard(hub.url);
    await hub.usage.record("claude", { costUsd: 0.01, inputTokens: 100, outputTokens: 20, turns: 1 });
    const row = page.locator('#usage-list [data-backend="claude"]');
    await row.waitFor();
    // Marks the bars and records every change to the usage panel from here on.
    await page.evaluate(() => {
      const watched = window as unknown as { usageMutations: number };
      watched.usageMutations = 0;
      for (const rect of document.querySelectorAll("#usage-list .usage-chart rect")) rect.classList.add("first-drawn");
      new MutationObserver((records) => {
        watched.usageMutations += records.length;
      }).observe(document.querySelector("#usage-list") as Node, {
        subtree: true,
        childList: true,
        attributes: true,
        characterData: true,
      });
    });

    await rest.addTask({ taskId: "route_elsewhere", description: "A change elsewhere", startedFrom: "cli" });
    await queueCard(page, "route_elsewhere").waitFor();
    expect(await page.evaluate(() => (window as unknown as { usageMutations: number }).usageMutations)).toBe(0);

    await hub.usage.record("claude", { costUsd: 0.01, inputTokens: 100, outputTokens: 20, turns: 1 });
    await page.waitForFunction(() =>
      document
        .querySelector('#usage-list [data-backend="claude"] .usage-today')
        ?.textContent?.startsWith("today: 2 runs"),
    );
    expect(await row.locator(".usage-chart rect").count()).toBe(7);
    expect(await row.locator(".usage-chart rect.first-drawn").count()).toBe(7);
    // Today's bar stays the tallest; its tooltip counts the new run.
    expect(await row.locator(".usage-chart rect").last().locator("title").textContent()).toMatch(/2 runs/);
  });

  test("after the hub restarts on the same port and data, the page reconnects by itself and shows the current state", async () => {
    const { hub, rest } = await hubWithRest({ keepData: true });
    const page = await openDashboard(hub.url);
    await rest.addTask({ taskId: "route_before", description: "Started before the restart", startedFrom: "cli" });
    await queueCard(page, "route_before").waitFor();

    await hub.close();
    await page.locator('#connection[data-state="reconnecting"]').waitFor();
    expect(await page.locator("#connection .label").textContent()).toBe("reconnecting…");

    const { hub: restarted, rest: restRestarted } = await hubWithRest({
      dataDir: hub.dataDir,
      config: { port: hub.port },
    });
    // Changes made by the new hub lifetime (a new epoch), whether before or after the page is back.
    await restRestarted.completeTask("route_before", { outputPath: "artifacts/before.md" });
    await restRestarted.addTask({
      taskId: "route_after",
      description: "Started after the restart",
      startedFrom: "cli",
    });

    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
    await queueCard(page, "route_after").waitFor();
    await finishedRow(page, "route_before").waitFor();
    expect(await queueCard(page, "route_before").count()).toBe(0);
    expect(await stillSameDocument(page)).toBe(true);
    expect(restarted.port).toBe(hub.port);
  });

  test("with a token, the page takes it from the address, keeps it for the tab and removes it from the address bar", async () => {
    const { hub, rest } = await hubWithRest({ token: "tok-123_abc" });
    const page = await openDashboard(`${hub.url}/?token=tok-123_abc`);
    expect(new URL(page.url()).search).toBe("");
    expect(await page.evaluate(() => sessionStorage.getItem("switchboard.token"))).toBe("tok-123_abc");

    await page.reload();
    await page.locator('#connection[data-state="live"]').waitFor();
    await rest.addTask({ taskId: "route_tok", description: "Behind a token", startedFrom: "cli" });
    await queueCard(page, "route_tok").waitFor();
  });

  test("without the hub's token the page says how to get in instead of showing an empty board", async () => {
    const { hub } = await hubWithRest({ token: "tok-456" });
    const page = await browser().context.newPage();
    cleanups.push(() => page.close());
    await page.goto(hub.url);
    const notice = page.locator("#notice");
    await notice.waitFor();
    expect(await notice.textContent()).toContain("needs a token");
    expect(await page.locator("#connection").getAttribute("data-state")).not.toBe("live");
  });

  test("numbers changing do not move the layout: the card and the percentage keep their size", async () => {
    const { hub, rest } = await hubWithRest();
    const page = await openDashboard(hub.url);
    await rest.addTask({ taskId: "route_steady", description: "Steady layout", startedFrom: "cli", progress: 0.01 });
    const card = queueCard(page, "route_steady");
    await card.waitFor();
    const before = { card: await card.boundingBox(), percent: await card.locator(".percent").boundingBox() };

    await rest.updateTask("route_steady", { progress: 1, status: "running" });
    await page.locator('#queue-list [data-task-id="route_steady"] [aria-valuenow="100"]').waitFor();
    const after = { card: await card.boundingBox(), percent: await card.locator(".percent").boundingBox() };

    expect(after.card).toEqual(before.card);
    expect(after.percent).toEqual(before.percent);
  });
});

describe.skipIf(skipWithoutBrowser)("dashboard actions", () => {
  test("Approve, pressed from the keyboard, resolves a pending approval and shows the outcome", async () => {
    const { hub, rest } = await hubWithRest();
    await rest.addTask({
      taskId: "route_rename",
      description: "Rename the payments module",
      startedFrom: "slack",
      status: "pending-approval",
      plan: { steps: [{ title: "Plan" }, { title: "Apply the rename", requiresApproval: true }] },
      totalSteps: 2,
      currentStep: 2,
    });
    await rest.updateTask("route_rename", {
      awaitingApproval: { step: 2, title: "Apply the rename", detail: "git mv payments billing" },
    });
    const page = await openDashboard(hub.url);
    const card = page.locator('#approvals-list [data-task-id="route_rename"]');
    await card.waitFor();
    expect(await card.locator(".approval-title").textContent()).toBe("Apply the rename");
    expect(await card.locator(".approval-what").textContent()).toBe("git mv payments billing");

    await card.getByRole("button", { name: "Approve Rename the payments module" }).focus();
    await page.keyboard.press("Enter");

    await card.waitFor({ state: "detached" });
    await page.locator('#approval-outcome[data-kind="ok"]').waitFor();
    expect(await page.locator("#approval-outcome").textContent()).toContain("Approved “Rename the payments module”");
    const task = await rest.getTask("route_rename");
    expect(task.status).not.toBe("pending-approval");
    expect(task.approval).toMatchObject({ decision: "approved", channel: "dashboard" });
  });

  test("Ping now asks the hub to ping that backend and shows the outcome", async () => {
    // The fake claude CLI on PATH answers `--version` and `auth status` as a logged-in install does.
    const { env } = await fakeCliEnv();
    const { hub } = await hubWithRest({ config: { backends: { claude: { kind: "claude" } } }, backendEnv: env });
    const page = await openDashboard(hub.url);
    const requests = recordRequests(page);
    const row = backendRow(page, "claude");
    await row.getByRole("button", { name: "Ping claude now" }).click();
    await row.locator('.outcome[data-kind="ok"]').waitFor();
    expect(requests.some((r) => r.startsWith("POST ") && r.endsWith("/api/health/claude/ping"))).toBe(true);
    await page.locator('#backends-list [data-backend="claude"][data-status="warm"]').waitFor();
  });

  test("relative times keep ticking with no change from the hub", async () => {
    const { hub, rest } = await hubWithRest();
    const page = await browser().context.newPage();
    cleanups.push(() => page.close());
    await page.clock.install({ time: new Date() });
    await setBackend(hub, "claude", backendEntry({ lastPing: new Date().toISOString() }));
    await rest.addTask({ taskId: "route_tick", description: "Ticking", startedFrom: "cli" });
    await rest.completeTask("route_tick", { outputPath: "artifacts/tick.md" });
    await page.goto(hub.url);
    const pinged = backendRow(page, "claude").locator(".pinged");
    await pinged.waitFor();
    expect(await pinged.textContent()).toBe("pinged just now");
    const requests = recordRequests(page);

    await page.clock.runFor(3 * 60_000);

    await page.locator('#backends-list [data-backend="claude"] .pinged', { hasText: "pinged 3 minutes ago" }).waitFor();
    expect(await finishedRow(page, "route_tick").locator(".when").textContent()).toBe("finished 3 minutes ago");
    expect(requests).toEqual([]);
  });
});

describe.skipIf(skipWithoutBrowser)("dashboard layout", () => {
  test("every section renders at desktop and at phone width without sideways scrolling (screenshots saved)", async () => {
    const { hub, rest } = await hubWithRest();
    const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000 + 20_000).toISOString();
    await rest.addTask({
      taskId: "route_trust",
      description: "Analyze trust documents",
      startedFrom: "voice",
      plan: { steps: [{ title: "Read" }, { title: "Compare" }, { title: "Summarise" }, { title: "Write" }] },
      totalSteps: 4,
    });
    await rest.updateTask("route_trust", {
      currentStep: 2,
      progress: 0.45,
      lastUpdate: "step 2 started",
      eta: minutesFromNow(12),
      backend: "claude",
      start: "warm",
    });
    await rest.addTask({
      taskId: "route_queued",
      description: "Summarise the inbox",
      startedFrom: "telegram",
      status: "queued",
    });
    await rest.addTask({
      taskId: "route_approve",
      description: "Rename the payments module",
      startedFrom: "slack",
      status: "pending-approval",
      plan: { steps: [{ title: "Plan" }, { title: "Apply the rename", requiresApproval: true }] },
      totalSteps: 2,
      currentStep: 1,
    });
    await rest.updateTask("route_approve", {
      awaitingApproval: { step: 1, title: "Apply the rename", detail: "git mv payments billing\nupdate 14 imports" },
    });
    await rest.addTask({ taskId: "route_report", description: "Write the weekly report", startedFrom: "cli" });
    await rest.completeTask("route_report", { outputPath: "artifacts/weekly-report.md" });
    await rest.addTask({ taskId: "route_deploy", description: "Deploy the site", startedFrom: "dashboard" });
    await rest.completeTask("route_deploy", { status: "failed", error: "the deploy key was refused" });
    await rest.setChannelActive("voice", "route_trust");
    await rest.setChannelActive("telegram", "route_queued");
    await setBackend(hub, "claude", backendEntry({ status: "warm" }));
    await setBackend(hub, "codex", backendEntry({ kind: "codex", version: "codex-cli 0.52.0", latencyMs: 910 }));
    await setBackend(
      hub,
      "ollama",
      backendEntry({
        kind: "ollama",
        status: "dead",
        reason: "unreachable: connection refused on 127.0.0.1:11434",
        version: null,
      }),
    );

    await mkdir(ARTIFACTS, { recursive: true });
    for (const [name, viewport] of [
      ["desktop", DESKTOP],
      ["phone", PHONE],
    ] as const) {
      const page = await openDashboard(hub.url, viewport);
      await backendRow(page, "ollama").waitFor();
      await page.locator("#approvals-list li").waitFor();
      for (const section of ["queue", "approvals", "finished", "backends", "channels"]) {
        expect(await page.locator(`#${section}`).getAttribute("class"), section).toContain("has-items");
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `sideways overflow at ${name} width`).toBeLessThanOrEqual(0);
      await page.screenshot({ path: new URL(`dashboard-${name}.png`, ARTIFACTS).pathname, fullPage: true });
    }
  });
});
