// The `switchboard` process entry: runs the command named on the command line and exits with its status.
import { runCli } from "./dispatch.ts";

const interrupted = new Promise<void>((resolve) => {
  process.once("SIGINT", () => resolve());
  process.once("SIGTERM", () => resolve());
});
const status = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  now: Date.now,
  interrupted,
});
// Exit once the output is flushed, without waiting on sockets the hub client may hold.
process.stdout.write("", () => process.exit(status));
