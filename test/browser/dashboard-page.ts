// Opening the dashboard of a test hub in Chromium: a new page, every page error and console
// error recorded, and the page live (subscribed and holding the documents) before it is returned.
import type { Page } from "playwright-core";
import type { Browser } from "./chromium.ts";

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
