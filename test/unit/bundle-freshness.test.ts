// When an entry point's bundle is current (client/launch.js): the `switchboard` command and the
// channels run their bundle as it is while no source it was built from is newer than the build's
// manifest, and rebuild first otherwise. Checked in a throwaway project folder with set mtimes.
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { isBundleCurrent } from "../../client/launch.js";

const BUILT_AT = new Date("2026-12-01T12:00:00Z");
const BEFORE = new Date("2026-12-01T11:00:00Z");
const AFTER = new Date("2026-12-01T13:00:00Z");

let root: string;

async function file(path: string, text: string, time: Date): Promise<void> {
  await mkdir(join(root, path, ".."), { recursive: true });
  await writeFile(join(root, path), text);
  await utimes(join(root, path), time, time);
}

const manifest = (entries: string[], inputs: string[]) =>
  file("dist/build-manifest.json", JSON.stringify({ entries, inputs }), BUILT_AT);

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "switchboard-freshness-"));
  await file("client/cli/main.ts", "export {};\n", BEFORE);
  await file("shared/clock.ts", "export {};\n", BEFORE);
  await file("dist/cli.mjs", "", BUILT_AT);
  await manifest(["cli", "voice"], ["client/cli/main.ts", "shared/clock.ts"]);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("an entry point's bundle", () => {
  test("is current while every source it was built from is older than the manifest", () => {
    expect(isBundleCurrent("cli", root)).toBe(true);
  });

  test("is stale once any source is newer than the manifest, shared code included", async () => {
    await utimes(join(root, "shared/clock.ts"), AFTER, AFTER);
    expect(isBundleCurrent("cli", root)).toBe(false);
  });

  test("is stale when a source it was built from is gone", async () => {
    await rm(join(root, "client/cli/main.ts"));
    expect(isBundleCurrent("cli", root)).toBe(false);
  });

  test("is stale when its bundle file is missing, though the manifest names it", () => {
    expect(isBundleCurrent("voice", root)).toBe(false);
  });

  test("is stale when the manifest does not name the entry point", async () => {
    await manifest(["voice"], ["client/cli/main.ts"]);
    expect(isBundleCurrent("cli", root)).toBe(false);
  });

  test("is stale when the manifest is missing or is not JSON", async () => {
    await file("dist/build-manifest.json", "{ half a manifest", BUILT_AT);
    expect(isBundleCurrent("cli", root)).toBe(false);
    await rm(join(root, "dist/build-manifest.json"));
    expect(isBundleCurrent("cli", root)).toBe(false);
  });
});
