// How tests run the project's entry points as child processes, exactly as the npm scripts do:
// the hub as `npm start` runs it (the bundle test/global-setup.ts builds before any test), every
// other entry point (voice, telegram, slack, the CLI) through tsx.
import { SERVER_BUNDLE } from "../../server/build.ts";

export const HUB_ENTRY = "server/main.ts";

/** Node's arguments before the script's own: `node <these> --port 0 …`. */
export function nodeArgs(script: string): string[] {
  return script === HUB_ENTRY ? [SERVER_BUNDLE] : ["--import", "tsx", script];
}
