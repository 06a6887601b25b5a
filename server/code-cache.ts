// Runs a bundled CommonJS file with V8's code cache: the functions compiled while a run went by are
// saved once, and the next start takes them from the cache instead of compiling them again. Node's
// own compile cache (22.1+) saves a module's code when it is compiled, before any of it has run,
// so what a start spends compiling zod, fastify and the hub's functions as they first run stays;
// this cache is made after the start has run (V8's createCachedData), and Node 20 has no compile
// cache at all. Only node: built-ins here: this runs before anything else is loaded.
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import Module from "node:module";
import { basename, dirname, join } from "node:path";
import vm from "node:vm";

export interface CachedRun {
  /** The file's `module.exports`. */
  exports: Record<string, unknown>;
  /** Where the cache came from: `used` (taken), `rejected` (V8 refused it: another V8 or flags), `none`, `off`. */
  cache: "used" | "rejected" | "none" | "off";
  /**
   * Writes the cache of what has been compiled so far, unless a usable one was taken at start;
   * returns whether it wrote. A folder that cannot be written to is no error: the next start
   * compiles, as without a cache.
   */
  save(): boolean;
}

export interface CachedRunOptions {
  /** The folder the cache files live in (one per bundle, Node version and architecture). */
  cacheDir: string;
  /** False runs the file without a cache (`NODE_DISABLE_COMPILE_CACHE=1`, as for Node's own). */
  enabled?: boolean;
}

/**
 * Loads and runs the CommonJS file `file` as Node would (its own `require`, `module`, `__filename`),
 * compiled with its cache when one exists for exactly this file.
 */
export function runWithCodeCache(file: string, options: CachedRunOptions): CachedRun {
  const enabled = options.enabled ?? true;
  // The size and time of the very file read: a build renaming a new one into place meanwhile must
  // not have the old code's cache saved under its name.
  const fd = openSync(file, "r");
  let source: string;
  let size: number;
  let mtimeMs: number;
  try {
    ({ size, mtimeMs } = fstatSync(fd));
    source = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  // V8 checks its own version and flags, and the source's length only: a rebuilt bundle of the
  // same length would run stale code. The header names the exact build the cache was made from.
  const header = Buffer.from(`${size}:${mtimeMs}\n`);
  const cacheFile = join(options.cacheDir, `${basename(file)}-${process.version}-${process.arch}.v8`);
  const stored = enabled ? readCache(cacheFile, header) : undefined;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(stored ? { cachedData: stored } : {}),
  });
  const cache = !enabled ? "off" : !stored ? "none" : script.cachedDataRejected ? "rejected" : "used";
  const bundle = new Module(file);
  bundle.filename = file;
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, dirname(file));
  return {
    exports: bundle.exports as Record<string, unknown>,
    cache,
    save() {
      if (cache === "used" || cache === "off") return false;
      try {
        mkdirSync(options.cacheDir, { recursive: true });
        // Whole or not at all: a start that reads it meanwhile sees the old file or none.
        const partial = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(partial, Buffer.concat([header, script.createCachedData()]));
        renameSync(partial, cacheFile);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** The cache stored for this very build, or undefined (none, unreadable, or of another build). */
function readCache(cacheFile: string, header: Buffer): Buffer | undefined {
  let stored: Buffer;
  try {
    stored = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  return stored.subarray(0, header.length).equals(header) ? stored.subarray(header.length) : undefined;
}
