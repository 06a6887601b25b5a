// The start-up benchmark's second comparison: the bare fastify server's bundle (argument 1) run the
// way npm start runs the hub's, with V8's code cache kept in the folder of argument 2
// (server/code-cache.ts), saved once it listens.
import { runWithCodeCache } from "../server/code-cache.ts";

const [bundle, cacheDir] = process.argv.slice(2) as [string, string];
const bare = runWithCodeCache(bundle, { cacheDir });
void (bare.exports.startBareFastify as () => Promise<{ url: string }>)().then(({ url }) => {
  bare.save();
  process.stdout.write(`bare fastify: listening on ${url}\n`);
});
