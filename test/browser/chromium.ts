// Debian's Chromium driven through playwright-core, with a fresh profile per launch. A missing
// browser is a skip on a developer's machine (with the reason) and a failure in CI.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const IN_CI = Boolean(process.env.CI) && process.env.CI !== "false";

/** True when the browser tests should be skipped: no browser here and not in CI. */
export const skipWithoutBrowser = !existsSync(CHROMIUM_PATH) && !IN_CI;
if (skipWithoutBrowser) {
  console.warn(
    `browser tests skipped: no Chromium at ${CHROMIUM_PATH}; install it with \`apt-get install chromium\` (in CI this is a failure)`,
  );
}

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is required for the dashboard tests but ${CHROMIUM_PATH} does not exist: run \`apt-get install -y chromium\` (.ci/run does this) or set CHROMIUM_PATH`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), "switchboard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
