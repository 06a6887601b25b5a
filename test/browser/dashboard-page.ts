// Opening the dashboard of a test hub in Chromium: a new page, every page error and console
// error recorded, and the page live (subscribed and holding the documents) before it is returned;
// the one browser a dashboard test file shares (dashboardBrowser); and live pages closed after
// each test (liveDashboards).
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { buildDashboard } from "../../client/dashboard/build.ts";
import { type Browser, launchChromium } from "./chromium.ts";

export async function openLiveDashboard(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  await page.goto(url);
  await page.locator('#connection[data-state="live"]').waitFor();
  return { page, problems };
}

/**
 * For a dashboard test file: builds the dashboard and launches Chromium once before its tests,
 * closes it after them; the returned function gives the browser inside a test.
 */
export function dashboardBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    await buildDashboard();
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });
  return () => browser as Browser;
}

/**
 * For a dashboard test file: the shared browser, and a function opening a test hub's dashboard
 * live in a new page, every page closed after each test.
 */
export function liveDashboards(): (hub: { url: string }) => Promise<{ page: Page; problems: string[] }> {
  const browser = dashboardBrowser();
  const pages: Page[] = [];
  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
  });
  return async (hub) => {
    const opened = await openLiveDashboard(browser(), hub.url);
    pages.push(opened.page);
    return opened;
  };
}
