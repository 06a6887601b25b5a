// Builds the dashboard with Vite when its sources are newer than the last build.
// `npm start` runs it first (through server/build.ts, which shares its freshness check), tests call
// `buildDashboard()`; `--force` always rebuilds.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CONFIG_FILE = fileURLToPath(new URL("./vite.config.ts", import.meta.url));
export const BUILT_INDEX = join(REPO, "dist", "dashboard", "index.html");

/** What the bundle is made of: the dashboard, the client modules it imports, the wire types. */
const SOURCES: Source[] = [
  { path: join(REPO, "client", "dashboard"), recursive: true },
  // client/ itself holds other channels too; its direct files and the dashboard folder are enough.
  { path: join(REPO, "client"), recursive: false },
  { path: join(REPO, "shared"), recursive: true, suffix: ".ts" },
];

/** A file, or a folder whose files count (recursively, or only its direct ones; `suffix` filters). */
export interface Source {
  path: string;
  recursive?: boolean;
  suffix?: string;
}

async function newestSourceTime(sources: Source[]): Promise<number> {
  let newest = 0;
  for (const source of sources) {
    const info = await stat(source.path).catch(() => null);
    if (!info) continue;
    if (info.isFile()) {
      newest = Math.max(newest, info.mtimeMs);
      continue;
    }
    for (const entry of await readdir(source.path, { withFileTypes: true, recursive: source.recursive ?? false })) {
      if (!entry.isFile() || (source.suffix && !entry.name.endsWith(source.suffix))) continue;
      const file = await stat(join(entry.parentPath, entry.name)).catch(() => null);
      if (file) newest = Math.max(newest, file.mtimeMs);
    }
  }
  return newest;
}

/** True when `output` exists and no source changed since it was written. */
export async function isBuildCurrent(output: string, sources: Source[]): Promise<boolean> {
  const built = await stat(output).catch(() => null);
  return built !== null && built.mtimeMs >= (await newestSourceTime(sources));
}

/** True when dist/dashboard exists and no source changed since it was built. */
export const isDashboardBuildCurrent = (): Promise<boolean> => isBuildCurrent(BUILT_INDEX, SOURCES);

/** Builds unless the build is current; resolves with whether it built. */
export async function buildDashboard(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && (await isDashboardBuildCurrent())) return false;
  // Vite is loaded only to build: checking that the build is current (every `npm start`) stays cheap.
  const { build } = await import("vite");
  await build({ configFile: CONFIG_FILE, logLevel: "warn" });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildDashboard({ force: process.argv.includes("--force") });
  process.stdout.write(
    built ? "switchboard: dashboard built into dist/dashboard\n" : "switchboard: dashboard is up to date\n",
  );
}
