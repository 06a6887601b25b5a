// The hub process as `npm start` runs it (dist/switchboard.cjs): runs the hub's own file, dist/hub.cjs
// (server/main.ts and all it loads), with V8's code cache: compiling is most of a start, and a
// start with the cache skips it (server/code-cache.ts). Once the hub listens, the cache is saved
// if this build had none yet; `NODE_DISABLE_COMPILE_CACHE=1` runs without it.
import { join } from "node:path";
import { runWithCodeCache } from "./code-cache.ts";

// Bundled, this file is dist/switchboard.cjs, beside the hub's.
const dist = import.meta.dirname;
const hub = runWithCodeCache(join(dist, "hub.cjs"), {
  cacheDir: join(dist, ".code-cache"),
  enabled: !process.env.NODE_DISABLE_COMPILE_CACHE,
});
(hub.exports.listening as Promise<void>).then(
  () => hub.save(),
  // A hub that cannot start has said why and exited; anything else ends the process with its stack.
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
