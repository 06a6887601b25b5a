// How tests run the project's entry points as child processes, exactly as the npm scripts and the
// `switchboard` command do: from their bundles (dist/<name>.mjs, which test/global-setup.ts builds
// before any test); any other script through tsx.
import { bundlePath } from "../../client/launch.js";
import { ENTRY_POINTS } from "../../server/build.ts";

export const HUB_ENTRY = ENTRY_POINTS.switchboard;

const BUNDLES = new Map<string, string>(
  Object.entries(ENTRY_POINTS).map(([name, source]) => [source, bundlePath(name)]),
);

/** Node's arguments before the script's own: `node <these> --port 0 …`. */
export function nodeArgs(script: string): string[] {
  const bundle = BUNDLES.get(script);
  return bundle ? [bundle] : ["--import", "tsx", script];
}
