// Builds the switchboard/session, switchboard/warmup and switchboard/client package entries into
// dist/package, when a source is newer than the last build (`npm start` and the tests run it,
// through server/build.ts and test/global-setup.ts): esbuild writes each entry as an ES module
// (.mjs) and as CommonJS (.cjs), with the project's own modules bundled in and the npm packages
// (ws) left to node_modules; tsc writes the type declarations. Plain JavaScript, no TypeScript at
// run time. esbuild is already the hub's bundler; tsup would wrap the same two tools.
import { execFile } from "node:child_process";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { isBuildCurrent, type Source } from "../dashboard/build.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const PACKAGE_DIR = join(REPO, "dist", "package");
/** The package's entries, by the name after `switchboard/`. */
export const PACKAGE_ENTRIES = ["session", "warmup", "client"] as const;
/** Written last, so its time says when the whole build finished. */
const MARKER = join(PACKAGE_DIR, "client.cjs");

const SOURCES: Source[] = [
  { path: join(REPO, "client"), recursive: false, suffix: ".ts" },
  { path: join(REPO, "client", "package"), recursive: false },
  { path: join(REPO, "shared"), recursive: false, suffix: ".ts" },
  { path: join(REPO, "package-lock.json") },
];

/** Builds unless the build is current; resolves with whether it built. */
export async function buildPackage(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && (await isBuildCurrent(MARKER, SOURCES))) return false;
  // Built beside and moved into place whole, so a program loading the package never sees half of it.
  const partial = `${PACKAGE_DIR}.${process.pid}.tmp`;
  await rm(partial, { recursive: true, force: true });
  try {
    await declarations(join(partial, "types"));
    for (const format of ["esm", "cjs"] as const) {
      await build({
        entryPoints: Object.fromEntries(
          PACKAGE_ENTRIES.map((name) => [name, join(REPO, "client", "package", `${name}.ts`)]),
        ),
        outdir: partial,
        outExtension: { ".js": format === "esm" ? ".mjs" : ".cjs" },
        bundle: true,
        // ws and zod come from the switchboard folder's node_modules, found through the link.
        packages: "external",
        platform: "node",
        format,
        target: "node20.19",
        logLevel: "warning",
      });
    }
    await rm(PACKAGE_DIR, { recursive: true, force: true });
    await rename(partial, PACKAGE_DIR);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return true;
}

/**
 * The `.d.ts` files, from client/package/tsconfig.json. tsc keeps the sources' `.ts` import
 * specifiers in declarations; they become `.js`, which every TypeScript resolution mode reads.
 */
async function declarations(outDir: string): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  await promisify(execFile)(process.execPath, [
    tsc,
    "-p",
    join(REPO, "client", "package", "tsconfig.json"),
    "--outDir",
    outDir,
  ]);
  for (const entry of await readdir(outDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
    const file = join(entry.parentPath, entry.name);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/(from\s+["']\.{1,2}\/[^"']*)\.ts(["'])/g, "$1.js$2"));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildPackage({ force: process.argv.includes("--force") });
  process.stdout.write(`switchboard: package ${built ? "built into dist/package" : "is up to date"}\n`);
}
