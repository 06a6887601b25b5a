// `switchboard watch`: a live mirror of the hub drawn in the terminal, redrawn from pushed
// changes (coalesced), reconnecting by itself, and every 30 seconds so "12 minutes left" stays true.
// A terminal gets only the lines that changed rewritten in place (log-update), never a full clear.
import { createLogUpdate } from "log-update";
import type { CommandContext } from "./command.ts";
import { renderWatch } from "./watch-view.ts";

const TICK_MS = 30_000;

export async function watch(ctx: CommandContext): Promise<number> {
  const { client, io } = ctx;
  const tty = io.stdout.isTTY === true;
  let scheduled = false;
  let last = "";
  const terminal = tty ? createLogUpdate(io.stdout) : null;

  const draw = () => {
    scheduled = false;
    if (ctx.json) {
      // One JSON line per change: the documents as they now are.
      io.stdout.write(
        `${JSON.stringify({ connection: client.state, context: client.context, health: client.health })}\n`,
      );
      return;
    }
    const lines = renderWatch({
      context: client.context,
      health: client.health,
      connection: client.state,
      hubUrl: ctx.hubUrl,
      now: io.now(),
      width: io.stdout.columns ?? 100,
    });
    const frame = lines.join("\n");
    if (frame === last) return;
    last = frame;
    // A terminal is redrawn in place; a pipe gets each frame after a blank line.
    if (terminal) terminal(frame);
    else io.stdout.write(`${frame}\n\n`);
  };
  // A burst of patches is drawn once.
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(draw);
  };

  client.on("change", schedule);
  client.on("connection", schedule);
  client.on("hub-error", ({ code, message }) => {
    if (code !== "connection_failed") io.stderr.write(`switchboard: the hub said ${code}: ${message}\n`);
  });
  const ticker = setInterval(schedule, TICK_MS);
  draw();
  void client.connect();
  void client.setChannelActive("cli").catch(() => {
    // The view does not depend on it; an unreachable hub is shown in the header.
  });
  await io.interrupted;
  clearInterval(ticker);
  terminal?.done();
  return 0;
}
