// server/code-cache.ts: the hub's file run with V8's code cache, on real files in a temporary folder.
// Each start is a process of its own, as the hub's are: within one process V8 would find the
// script it compiled before in memory, and never look at the cache.
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { CachedRun, CachedRunOptions } from "../../server/code-cache.ts";

const CODE_CACHE = join(import.meta.dirname, "..", "..", "server", "code-cache.ts");

/** Starts `file` through runWithCodeCache in a new process and saves the cache, as the hub does once it listens. */
async function start(
  file: string,
  options: CachedRunOptions,
): Promise<{ cache: CachedRun["cache"]; exports: Record<string, unknown>; saved: boolean }> {
  const script = [
    `import { runWithCodeCache } from ${JSON.stringify(CODE_CACHE)};`,
    `const run = runWithCodeCache(${JSON.stringify(file)}, ${JSON.stringify(options)});`,
    "const saved = run.save();",
    "process.stdout.write(JSON.stringify({ cache: run.cache, exports: run.exports, saved }));",
  ].join("\n");
  const { stdout } = await execa(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);
  return JSON.parse(stdout);
}

let dir: string;
let cacheDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-code-cache-"));
  cacheDir = join(dir, ".code-cache");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A CommonJS file with a function worth caching, a require of a file beside it, and its own names. */
async function writeBundle(name: string, answer: number): Promise<string> {
  const file = join(dir, name);
  await writeFile(join(dir, "beside.cjs"), "module.exports = { beside: true };\n");
  await writeFile(
    file,
    [
      '"use strict";',
      `function answer() { return ${answer}; }`,
      "exports.answer = answer();",
      'exports.beside = require("./beside.cjs").beside;',
      "exports.names = { filename: __filename, dirname: __dirname, moduleFilename: module.filename };",
      "exports.strict = (function () { return this; })() === undefined;",
    ].join("\n"),
  );
  return file;
}

describe("runWithCodeCache", () => {
  test("runs a CommonJS file as Node would: its exports, require beside it, __filename, __dirname, strict mode", async () => {
    const file = await writeBundle("hub.cjs", 42);
    const run = await start(file, { cacheDir });
    expect(run.exports).toEqual({
      answer: 42,
      beside: true,
      names: { filename: file, dirname: dir, moduleFilename: file },
      strict: true,
    });
  });

  test("the first start has no cache and saves one; the next start takes it and saves nothing", async () => {
    const file = await writeBundle("first.cjs", 1);
    const first = await start(file, { cacheDir });
    expect(first).toMatchObject({ cache: "none", saved: true });
    expect(await readdir(cacheDir)).toEqual([`first.cjs-${process.version}-${process.arch}.v8`]);

    const second = await start(file, { cacheDir });
    expect(second).toMatchObject({ cache: "used", saved: false, exports: { answer: 1 } });
  });

  test("a rebuilt file ignores the cache of the build before it, even of the same length, and saves its own", async () => {
    const file = await writeBundle("rebuilt.cjs", 1);
    await start(file, { cacheDir });
    const [cacheFile] = await readdir(cacheDir);
    const before = await readFile(join(cacheDir, cacheFile as string));

    await writeBundle("rebuilt.cjs", 2); // same length: V8 alone would take the old code
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    expect(await start(file, { cacheDir })).toMatchObject({ cache: "none", saved: true, exports: { answer: 2 } });
    expect((await readFile(join(cacheDir, cacheFile as string))).equals(before)).toBe(false);
    expect(await start(file, { cacheDir })).toMatchObject({ cache: "used", exports: { answer: 2 } });
  });

  test("a cache V8 refuses is rejected: the file still runs, and the cache is written anew", async () => {
    const file = await writeBundle("refused.cjs", 3);
    await start(file, { cacheDir });
    const [cacheFile] = await readdir(cacheDir);
    const path = join(cacheDir, cacheFile as string);
    const stored = await readFile(path);
    const header = stored.subarray(0, stored.indexOf(10) + 1);
    await writeFile(path, Buffer.concat([header, Buffer.alloc(stored.length - header.length, 7)]));

    expect(await start(file, { cacheDir })).toMatchObject({ cache: "rejected", saved: true, exports: { answer: 3 } });
    expect(await start(file, { cacheDir })).toMatchObject({ cache: "used", exports: { answer: 3 } });
  });

  test("switched off, it neither reads nor writes a cache", async () => {
    const file = await writeBundle("off.cjs", 4);
    expect(await start(file, { cacheDir, enabled: false })).toMatchObject({
      cache: "off",
      saved: false,
      exports: { answer: 4 },
    });
    await mkdir(cacheDir, { recursive: true });
    expect(await readdir(cacheDir)).toEqual([]);
    await start(file, { cacheDir });
    expect(await start(file, { cacheDir, enabled: false })).toMatchObject({ cache: "off", saved: false });
  });

  test("a cache folder that cannot be made is no error: the file runs, and saving says it did not", async () => {
    const file = await writeBundle("unwritable.cjs", 5);
    await writeFile(join(dir, "not-a-folder"), "");
    const run = await start(file, { cacheDir: join(dir, "not-a-folder", "cache") });
    expect(run).toMatchObject({ cache: "none", saved: false, exports: { answer: 5 } });
  });
});
