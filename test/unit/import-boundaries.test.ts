// The layout's rule, checked on the sources: shared/ (wire schemas, clock, defaults) imports
// nothing of the project's; client/ imports shared/ but never server/; server/ never imports
// client/ except in the two places that start or build channels (the entry point, the build script).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const SERVER_MAY_IMPORT_CLIENT = ["server/main.ts", "server/build.ts"];

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => /\.(ts|js)$/.test(file))
    .map((file) => join(folder, file));
}

/** The project folders a file imports from (shared, server, client), by its relative imports. */
function importedFolders(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), "utf8");
  const folders = new Set<string>();
  for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    const target = relative(ROOT, join(ROOT, file, "..", specifier as string));
    folders.add(target.split(/[\\/]/)[0] as string);
  }
  return folders;
}

describe("import boundaries", () => {
  test("finds the imports it checks (a sanity check of the scanner)", () => {
    expect(importedFolders("client/hub-client.ts")).toEqual(new Set(["shared", "client"]));
    expect(importedFolders("server/main.ts").has("client")).toBe(true);
  });

  test.each(sources("shared"))("%s imports nothing from server/ or client/", (file) => {
    expect([...importedFolders(file)].filter((folder) => folder !== "shared")).toEqual([]);
  });

  test.each(sources("client"))("%s imports nothing from server/", (file) => {
    expect(importedFolders(file).has("server")).toBe(false);
  });

  test.each(sources("server").filter((file) => !SERVER_MAY_IMPORT_CLIENT.includes(file)))(
    "%s imports nothing from client/",
    (file) => {
      expect(importedFolders(file).has("client")).toBe(false);
    },
  );
});
