// Runs an entry point from its bundle in dist/ (`switchboard`, `npm run voice`, `telegram`, `slack`),
// rebuilding the bundles first when a source is newer. Plain JavaScript, so the check costs one
// stat per source the bundles were built from and never loads esbuild or tsx while they are current.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import module from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const REPO = fileURLToPath(new URL("../", import.meta.url));
/** The build's manifest under project folder `root`: written last, it names the files the bundles were built from. */
const manifestIn = (root) => join(root, "dist", "build-manifest.json");
/** The bundle of entry point `name` under project folder `root`. */
const bundleIn = (root, name) => join(root, "dist", `${name}.mjs`);

/** Written last by server/build.ts: which project files the bundles were built from. */
export const BUILD_MANIFEST = manifestIn(REPO);

/** The bundle of entry point `name` (`cli`, `voice`, …). */
export const bundlePath = (name) => bundleIn(REPO, name);

const modified = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;

/**
 * True when the manifest and the bundle of `name` exist and no source they were built from is
 * newer than the manifest (a source that is gone counts as changed). `root`: the project's folder.
 */
export function isBundleCurrent(name, root = REPO) {
  const manifestPath = manifestIn(root);
  const builtAt = modified(manifestPath);
  if (builtAt === undefined || modified(bundleIn(root, name)) === undefined) return false;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch {
    return false;
  }
  if (!Array.isArray(manifest.inputs) || !manifest.entries?.includes(name)) return false;
  for (const input of manifest.inputs) {
    const time = modified(join(root, input));
    if (time === undefined || time > builtAt) return false;
  }
  return true;
}

/** Imports the bundle of `name`, after rebuilding every bundle when it is missing or stale. */
export async function launch(name) {
  // Node 22.1+: V8's compiled code is kept between runs, so a second start skips most compiling.
  module.enableCompileCache?.();
  if (!isBundleCurrent(name)) {
    const build = spawnSync(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("../server/build.ts", import.meta.url)), "--bundles"],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    if (build.status !== 0) {
      process.stderr.write(
        `switchboard: could not build dist/${name}.mjs from the sources (see above); run \`npm ci\`, then try again.\n`,
      );
      process.exit(1);
    }
  }
  await import(pathToFileURL(bundlePath(name)).href);
}
