// Builds what the switchboard/session, switchboard/warmup and switchboard/client package needs
// besides its ES module entries (those are bundled by server/build.ts with every other entry point,
// sharing its chunks): the CommonJS files for `require` (dist/package/*.cjs; CommonJS cannot share
// chunks, so each is bundled whole, packages included, like the hub) and the type declarations
// (dist/package/types, from tsc). Rebuilt when a source is newer than the last build (`npm start`
// and the tests run it, through server/build.ts and test/global-setup.ts). Plain JavaScript, no
// TypeScript at run time.
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
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
  // Built beside and moved into place, the marker last, so a program loading the package never
  // sees half of it. dist/package also holds the ES module entries server/build.ts writes there.
  const partial = `${PACKAGE_DIR}.${process.pid}.tmp`;
  await rm(partial, { recursive: true, force: true });
  try {
    await declarations(join(partial, "types"));
    await build({
      entryPoints: Object.fromEntries(
        PACKAGE_ENTRIES.map((name) => [name, join(REPO, "client", "package", `${name}.ts`)]),
      ),
      outdir: partial,
      outExtension: { ".js": ".cjs" },
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20.19",
      minifyWhitespace: true,
      minifySyntax: true,
      keepNames: true,
      logLevel: "warning",
    });
    await mkdir(PACKAGE_DIR, { recursive: true });
    await rm(join(PACKAGE_DIR, "types"), { recursive: true, force: true });
    await rename(join(partial, "types"), join(PACKAGE_DIR, "types"));
    // In PACKAGE_ENTRIES order: client.cjs, the marker, comes last.
    for (const name of PACKAGE_ENTRIES) await rename(join(partial, `${name}.cjs`), join(PACKAGE_DIR, `${name}.cjs`));
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
