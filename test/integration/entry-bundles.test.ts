// The entry points' bundles (server/build.ts, run by client/launch.js): self-contained (no tsx, no
// node_modules), sharing their common code instead of holding it twice, loading neither zod (only the hub bundles it) nor
// ws for a command that needs neither, and not rebuilt while current.
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BUILD_MANIFEST } from "../../client/launch.js";
import { ENTRY_POINTS, HUB_ENTRY_POINTS } from "../../server/build.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const DIST = join(ROOT, "dist");

/** Every bundle and chunk by its path below dist/ (the package's entries are in dist/package/). */
async function bundles(): Promise<Map<string, string>> {
  const files = [
    ...(await readdir(DIST)).filter((name) => name.endsWith(".mjs")),
    ...(await readdir(join(DIST, "package"))).filter((name) => name.endsWith(".mjs")).map((name) => `package/${name}`),
  ];
  return new Map(
    await Promise.all(files.map(async (name) => [name, await readFile(join(DIST, name), "utf8")] as const)),
  );
}

const run = (args: string[], cwd: string) =>
  execa(process.execPath, args, { cwd, reject: false, timeout: 20_000, env: { SWITCHBOARD_TOKEN: "" } });

let hub: TestHub;
let outside: string;
beforeAll(async () => {
  hub = await startTestHub();
  outside = await mkdtemp(join(tmpdir(), "switchboard-bundles-"));
});
afterAll(async () => {
  await hub.stop();
  await rm(outside, { recursive: true, force: true });
});

describe("entry-point bundles", () => {
  test("every entry point has its bundle, and code they share is defined in one chunk only", async () => {
    const files = await bundles();
    for (const name of Object.keys(ENTRY_POINTS)) expect(files.has(`${name}.mjs`)).toBe(true);
    // phrasing.ts (every channel's sentences) and hub-client.ts (every mirror) serve the hub's
    // channels, the CLI and the switchboard/* package alike; each function is declared once.
    for (const definition of ["function summarySentence(", "function reconnectDelay(", "function localHub("]) {
      const holders = [...files].filter(([, text]) => text.includes(definition)).map(([name]) => name);
      expect(holders, definition).toHaveLength(1);
      expect(holders[0]).toMatch(/^chunk-/);
    }
  });

  test("the files a start reads are plain ASCII, which Node reads a third faster than text with other characters", async () => {
    const files = await bundles();
    for (const name of Object.keys(HUB_ENTRY_POINTS)) {
      files.set(`${name}.cjs`, await readFile(join(DIST, `${name}.cjs`), "utf8"));
    }
    for (const [name, text] of files) {
      const outside = [...text].findIndex((character) => (character.codePointAt(0) as number) > 0x7f);
      expect(outside, name).toBe(-1);
    }
  });

  test("the hub's files, run as a script with V8's code cache, hold no import() (a script's needs Node's experimental loader hook)", async () => {
    for (const name of Object.keys(HUB_ENTRY_POINTS)) {
      expect(await readFile(join(DIST, `${name}.cjs`), "utf8"), name).not.toMatch(/\bimport\(/);
    }
  });

  test("copied away from the project (no tsx, no node_modules) and without the ws chunk, the CLI still prints its help and a hub's status", async () => {
    const files = await bundles();
    const needless = (text: string) => text.includes('"node_modules/ws/lib/') || text.includes("ZodType");
    let left = 0;
    for (const [name, text] of files) {
      if (needless(text) && name.startsWith("chunk-")) left++;
      else if (!name.includes("/")) await copyFile(join(DIST, name), join(outside, name));
    }
    expect(left).toBeGreaterThanOrEqual(1);

    const help = await run([join(outside, "cli.mjs"), "--help"], outside);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: switchboard <command>/);

    await hub.taskContext.addTask({ taskId: "bundle-1", description: "Bundled status", startedFrom: "cli" });
    const status = await run([join(outside, "cli.mjs"), "status", "--hub", hub.url], outside);
    expect(status.stderr).toBe("");
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain("bundle-1: Your bundled status task is running.");
  });

  test("the switchboard command runs a current bundle without rebuilding it", async () => {
    const before = (await stat(BUILD_MANIFEST)).mtimeMs;
    const help = await run([join(ROOT, "client", "cli", "bin.js"), "--help"], ROOT);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: switchboard <command>/);
    expect((await stat(BUILD_MANIFEST)).mtimeMs).toBe(before);
  });
});
