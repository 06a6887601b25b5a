// Builds the dashboard with Vite when its sources are newer than the last build.
// `npm start` runs it first (prestart), tests call `buildDashboard()`; `--force` always rebuilds.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CONFIG_FILE = fileURLToPath(new URL("./vite.config.ts", import.meta.url));
export const BUILT_INDEX = join(REPO, "dist", "dashboard", "index.html");

/** What the bundle is made of: the dashboard, the client modules it imports, the wire types. */
const SOURCES = [join(REPO, "client", "dashboard"), join(REPO, "client"), join(REPO, "server", "schemas.ts")];

async function newestSourceTime(): Promise<number> {
  let newest = 0;
  for (const source of SOURCES) {
    const info = await stat(source).catch(() => null);
    if (!info) continue;
    if (info.isFile()) {
      newest = Math.max(newest, info.mtimeMs);
      continue;
    }
    // client/ itself holds other channels too; its direct files and the dashboard folder are enough.
    const recursive = source.endsWith("dashboard");
    for (const entry of await readdir(source, { withFileTypes: true, recursive })) {
      if (!entry.isFile()) continue;
      const file = await stat(join(entry.parentPath, entry.name)).catch(() => null);
      if (file) newest = Math.max(newest, file.mtimeMs);
    }
  }
  return newest;
}

/** True when dist/dashboard exists and no source changed since it was built. */
export async function isDashboardBuildCurrent(): Promise<boolean> {
  const built = await stat(BUILT_INDEX).catch(() => null);
  return built !== null && built.mtimeMs >= (await newestSourceTime());
}

/** Builds unless the build is current; resolves with whether it built. */
export async function buildDashboard(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && (await isDashboardBuildCurrent())) return false;
  await build({ configFile: CONFIG_FILE, logLevel: "warn" });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildDashboard({ force: process.argv.includes("--force") });
  process.stdout.write(
    built ? "switchboard: dashboard built into dist/dashboard\n" : "switchboard: dashboard is up to date\n",
  );
}
