// `switchboard watch` in a terminal: after the first frame, a pushed change rewrites only the lines
// that changed, in place — never a full-screen clear, never the unchanged lines again.
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli } from "../../client/cli/dispatch.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub.stop();
});

/** A terminal 100 columns by 30 rows that keeps every write. */
function terminal() {
  const writes: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        writes.push(String(chunk));
        done();
      },
    }),
    { isTTY: true, columns: 100, rows: 30 },
  );
  return { stream, writes, text: () => writes.join("") };
}

test("a change redraws only its own lines in place, without clearing the screen", async () => {
  await hub.taskContext.addTask({ taskId: "term-a", description: "Alpha stays put", startedFrom: "cli" });
  await hub.taskContext.addTask({ taskId: "term-b", description: "Beta moves along", startedFrom: "cli" });
  const screen = terminal();
  let stop = () => {};
  const interrupted = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const exited = runCli(["watch", "--hub", hub.url], {
    stdout: screen.stream,
    stderr: new Writable({ write: (_chunk, _encoding, done) => done() }),
    env: {},
    now: Date.now,
    interrupted,
  });
  try {
    await expect
      .poll(() => screen.text().includes("Beta moves along") && screen.text().includes("Backends:"), {
        timeout: 10_000,
        message: "the first frame",
      })
      .toBeTruthy();
    const before = screen.writes.length;
    await hub.taskContext.updateTask("term-b", { progress: 0.5, lastUpdate: "halfway there" });
    await expect
      .poll(() => screen.writes.slice(before).join("").includes("halfway there"), {
        timeout: 10_000,
        message: "the redraw",
      })
      .toBeTruthy();
    const redraw = screen.writes.slice(before).join("");

    expect(redraw).not.toContain("\x1b[2J"); // no full clear
    expect(redraw).not.toContain("\x1b[H"); // no jump to the top-left corner
    expect(redraw).not.toContain("Switchboard http"); // the unchanged header is not written again
    expect(redraw).not.toContain("Alpha stays put"); // nor the unchanged task
    expect(redraw).toContain(" 50%  Beta moves along");
  } finally {
    stop();
    expect(await exited).toBe(0);
  }
});
