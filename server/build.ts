// Builds what `npm start` runs (prestart): the dashboard (Vite) and the hub as one ES module,
// dist/switchboard.mjs, bundled with esbuild together with its dependencies. A bundle starts in
// about a third of the time of loading the TypeScript sources through tsx and hundreds of
// package files (`npm run bench -- startup`). Each is rebuilt only when a source is newer;
// `--force` always rebuilds. Tests build the bundle once (test/global-setup.ts).
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildDashboard, isBuildCurrent, type Source } from "../client/dashboard/build.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));
/**
 * The hub bundle. It sits one folder below the project, like `server/`, so every path the hub
 * derives from its own location (config.json, dist/dashboard, artifacts) stays the same.
 */
export const SERVER_BUNDLE = join(REPO, "dist", "switchboard.mjs");

/** What the bundle is made of: the hub, the channels it can start, and the locked dependencies. */
const SOURCES: Source[] = [
  { path: join(REPO, "server"), recursive: true, suffix: ".ts" },
  { path: join(REPO, "client"), recursive: true, suffix: ".ts" },
  { path: join(REPO, "package-lock.json") },
];

/** True when the bundle exists and no source changed since it was built. */
const isServerBuildCurrent = (): Promise<boolean> => isBuildCurrent(SERVER_BUNDLE, SOURCES);

/**
 * Bundles `entry` (default: the hub) into `outfile`, written whole and renamed into place so a
 * hub starting meanwhile never loads half a file. Resolves with whether it built.
 */
export async function buildServer(
  options: { force?: boolean; entry?: string; outfile?: string } = {},
): Promise<boolean> {
  const entry = options.entry ?? join(REPO, "server", "main.ts");
  const outfile = options.outfile ?? SERVER_BUNDLE;
  if (!options.force && !options.entry && (await isServerBuildCurrent())) return false;
  const partial = `${outfile}.${process.pid}.tmp.mjs`;
  try {
    await build({
      entryPoints: [entry],
      outfile: partial,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20.19",
      // Bundled CommonJS packages call require(); an ES module has to be given one.
      banner: {
        js: 'import { createRequire as switchboardRequire } from "node:module";\nconst require = switchboardRequire(import.meta.url);',
      },
      // Packages that check a class by its name (node-fetch under grammy: AbortSignal) need
      // the names esbuild would otherwise change to avoid collisions.
      keepNames: true,
      // whatwg-url (under grammy) requires Node's deprecated punycode module; the same code from
      // npm keeps Node 22+ from printing a deprecation warning at every start.
      alias: { punycode: "punycode/" },
      // Compiling the module is most of the start-up time, and it grows with the text: drop the
      // whitespace and simplify, but keep identifiers so a stack trace still names functions.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: "eof",
      logLevel: "warning",
    });
    await rename(partial, outfile);
  } finally {
    await rm(partial, { force: true });
  }
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const force = process.argv.includes("--force");
  const dashboard = await buildDashboard({ force });
  const server = await buildServer({ force });
  process.stdout.write(
    `switchboard: dashboard ${dashboard ? "built into dist/dashboard" : "is up to date"}; ` +
      `hub ${server ? "bundled into dist/switchboard.mjs" : "bundle is up to date"}\n`,
  );
}
