// Builds what the entry points run: the dashboard (Vite) and every process entry point. The CLI
// (dist/cli.mjs), the voice, Telegram and Slack channels and the switchboard/* package's ES module
// entries (dist/package/*.mjs) are ES modules bundled with esbuild together with their
// dependencies, the code they share split into chunks (dist/chunk-*.mjs) so that nothing is loaded
// twice. The hub (`npm start`: dist/switchboard.cjs running dist/hub.cjs) is one CommonJS file run
// with V8's code cache (HUB_BUILD below). A bundle starts in a fraction of the time of loading the
// TypeScript sources through tsx and hundreds of package files (`npm run bench -- startup cli`).
// Everything is rebuilt only when a source is newer (prestart, and client/launch.js before a
// channel or the CLI runs); `--force` always rebuilds. Tests build once (test/global-setup.ts).
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, type OnLoadArgs, type OnLoadResult, type Plugin } from "esbuild";
import { BUILD_MANIFEST, isBundleCurrent } from "../client/launch.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const DIST = join(REPO, "dist");

/**
 * Every process entry point but the hub's (HUB_BUILD below) and the ES module it becomes
 * (dist/<name>.mjs). dist/ sits one folder below the project, like `server/` and `client/`, so every
 * path a bundle derives from its own location (config.json, dist/dashboard, artifacts) stays the same.
 */
export const ENTRY_POINTS = {
  cli: "client/cli/main.ts",
  voice: "client/voice/main.ts",
  telegram: "client/telegram/main.ts",
  slack: "client/slack/main.ts",
  /** The approval MCP server Claude starts for the hub's permission prompts (server/tool-approvals). */
  "approval-mcp-server": "server/tool-approvals/mcp-server.ts",
  /**
   * The switchboard/session, switchboard/warmup and switchboard/client package's ES module entries
   * (package.json exports `import`), sharing their chunks with the CLI and the channels. Their
   * CommonJS files and type declarations come from client/package/build.ts.
   */
  "package/session": "client/package/session.ts",
  "package/warmup": "client/package/warmup.ts",
  "package/client": "client/package/client.ts",
} as const;
export type EntryPoint = keyof typeof ENTRY_POINTS;

/** The hub's files as `npm start` runs them (HUB_BUILD below), each becoming dist/<name>.cjs. */
export const HUB_ENTRY_POINTS = {
  /** `npm start`: runs `hub` with V8's code cache. */
  switchboard: "server/process-entry.ts",
  hub: "server/main.ts",
} as const;

/** esbuild's entry points for `points` (name → source): each source becomes dist/<name>. */
const entryPointsOf = (points: Record<string, string>) =>
  Object.entries(points).map(([out, source]) => ({ in: join(REPO, source), out }));

/** A module standing in for `args.path` that is only `require()` of it (two plugins below make such stand-ins). */
const requireStandIn = (args: OnLoadArgs, resolveDir?: string): OnLoadResult => ({
  contents: `module.exports = require(${JSON.stringify(args.path)});`,
  loader: "js",
  ...(resolveDir ? { resolveDir } : {}),
});

/**
 * Node's built-in modules imported by the project's own ES modules are loaded through require(),
 * as the bundled CommonJS packages load them. An `import` of a built-in makes Node build an ES
 * module facade that reads every export, and with it each lazily loaded part: importing randomBytes
 * from node:crypto loaded Web Crypto, parseArgs from node:util the MIME parser, isIP from node:net
 * the BlockList, several milliseconds of start-up that nothing used.
 */
const builtinsThroughRequire: Plugin = {
  name: "builtins-through-require",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "import-statement" ? { path: args.path, namespace: "builtin" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => requireStandIn(args));
  },
};

/** How every bundle is built (the start-up benchmark builds its bare comparison the same way). */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.19",
  outExtension: { ".js": ".mjs" },
  // Bundled CommonJS packages call require(); an ES module has to be given one.
  banner: {
    js: 'import { createRequire as switchboardRequire } from "node:module";\nconst require = switchboardRequire(import.meta.url);',
  },
  // No keepNames: it wraps every function and class the bundle creates in a call that sets its
  // name, which cost the hub about 10 ms of start-up (zod creates functions for every schema).
  // The names that packages check (node-fetch under grammy: AbortSignal) are inside CommonJS
  // modules, which esbuild never renames.
  // whatwg-url (under grammy) requires Node's deprecated punycode module; the same code from
  // npm keeps Node 22+ from printing a deprecation warning at every start.
  alias: { punycode: "punycode/" },
  // Compiling the module is most of the start-up time, and it grows with the text: drop the
  // whitespace and simplify, but keep identifiers so a stack trace still names functions.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "eof",
  logLevel: "warning",
  plugins: [builtinsThroughRequire] as Plugin[],
} as const;

/**
 * Packages that fastify requires only on paths the hub never takes, left out of the bundles (Node
 * would load them from node_modules if one ever were): `inject()` (light-my-request), a logger
 * (pino; the hub has its own), route JSON schemas (ajv, fast-json-stringify; requests are checked
 * with zod, see server/hub.ts). Compiling the bundle is most of the start-up, and it grows with the
 * text.
 */
const NEVER_LOADED = [
  "light-my-request",
  "pino",
  "@fastify/ajv-compiler",
  "@fastify/fast-json-stringify-compiler",
] as const;

/**
 * Packages that only parts of the hub loaded on demand use: the Telegram and Slack adapters, Ollama's
 * client, Redis, the sender of dashboard files, the voice's and the notifier's commands. Each is
 * bundled into a file of its own (dist/hub-packages/<name>.cjs) that the hub requires when such a
 * part starts: the hub's file is read at every start, and with these in it, it was a third longer.
 * None keeps state shared with the hub's own code, so a copy of their own costs nothing.
 */
const HUB_LOADS_ON_DEMAND = ["undici", "grammy", "@slack/web-api", "ioredis", "@fastify/send", "execa"] as const;

/** dist/hub-packages/<file>.cjs for a package of HUB_LOADS_ON_DEMAND (`@slack/web-api` → slack-web-api). */
const hubPackageFile = (name: string) => `hub-packages/${name.replace(/^@/, "").replace("/", "-")}`;

/** The hub's file requires the packages of HUB_LOADS_ON_DEMAND from their own files. */
const hubPackagesApart: Plugin = {
  name: "hub-packages-apart",
  setup(build) {
    const onDemand = new Set<string>(HUB_LOADS_ON_DEMAND);
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      onDemand.has(args.path) ? { path: `./${hubPackageFile(args.path)}.cjs`, external: true } : undefined,
    );
  },
};

/** Each package of HUB_LOADS_ON_DEMAND as its entry point `hub-package:<name>`: the package, whole. */
const hubPackageEntries: Plugin = {
  name: "hub-package-entries",
  setup(build) {
    build.onResolve({ filter: /^hub-package:/ }, (args) => ({
      path: args.path.slice("hub-package:".length),
      namespace: "hub-package",
    }));
    // Resolved from the project, where the package is installed.
    build.onLoad({ filter: /.*/, namespace: "hub-package" }, (args) => requireStandIn(args, REPO));
  },
};

/**
 * The hub as `npm start` runs it: CommonJS files, each whole, nothing split off. dist/switchboard.cjs
 * (server/process-entry.ts) runs dist/hub.cjs (server/main.ts and all it loads) with V8's code
 * cache (server/code-cache.ts), which V8 keeps for a script, not for an ES module; a CommonJS entry
 * also spares Node its ES module loader.
 */
const HUB_BUILD: BuildOptions = {
  ...BUNDLE_OPTIONS,
  format: "cjs",
  outExtension: { ".js": ".cjs" },
  entryPoints: entryPointsOf(HUB_ENTRY_POINTS),
  // ES modules are strict, and so is every bundle made of them; `import.meta` is the file's own.
  banner: { js: '"use strict";\nconst importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: {
    "import.meta.url": "importMetaUrl",
    "import.meta.dirname": "__dirname",
    "import.meta.filename": "__filename",
  },
  // Each import() becomes a require() when first asked for: V8 runs the file as a script
  // (server/code-cache.ts), and a script's import() would need Node's experimental loader hook.
  supported: { "dynamic-import": false },
  plugins: [hubPackagesApart],
  external: [...NEVER_LOADED],
};

/** The packages the hub loads on demand, each a CommonJS file of its own (in a build of their own). */
const HUB_PACKAGES_BUILD: BuildOptions = {
  ...HUB_BUILD,
  entryPoints: HUB_LOADS_ON_DEMAND.map((name) => ({ in: `hub-package:${name}`, out: hubPackageFile(name) })),
  plugins: [hubPackageEntries],
};

/** The hub's entry (`npm start`: node dist/switchboard.cjs). */
export const SERVER_BUNDLE = join(DIST, "switchboard.cjs");
const HUB_FILES = [...Object.keys(HUB_ENTRY_POINTS), ...HUB_LOADS_ON_DEMAND.map(hubPackageFile)].map((name) =>
  join(DIST, `${name}.cjs`),
);

/**
 * Bundles every entry point into dist/ unless all are current; resolves with whether it built.
 * The files are written to a folder of their own and renamed into place, chunks first and the
 * manifest last, so a process starting meanwhile never loads half a build.
 */
export async function buildBundles(options: { force?: boolean } = {}): Promise<boolean> {
  const current = () =>
    (Object.keys(ENTRY_POINTS) as EntryPoint[]).every((name) => isBundleCurrent(name)) && HUB_FILES.every(existsSync);
  if (!options.force && current()) return false;
  const staging = join(DIST, `.build-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    const results = await Promise.all([
      build({
        ...BUNDLE_OPTIONS,
        entryPoints: entryPointsOf(ENTRY_POINTS),
        outdir: staging,
        splitting: true,
        external: [...NEVER_LOADED],
        chunkNames: "chunk-[hash]",
        metafile: true,
      }),
      build({ ...HUB_BUILD, outdir: staging, metafile: true }),
      build({ ...HUB_PACKAGES_BUILD, outdir: staging, metafile: true }),
    ]);
    // Paths below dist/: chunks at the top, entries at the top or in a folder (package/, hub-packages/).
    const outputs = (await readdir(staging, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => relative(staging, join(entry.parentPath, entry.name)));
    await warnOutsideAscii(
      staging,
      outputs.filter((name) => !name.startsWith("hub-packages/")),
    );
    const isChunk = (name: string) => name.startsWith("chunk-");
    for (const name of [...outputs.filter(isChunk), ...outputs.filter((name) => !isChunk(name))]) {
      await mkdir(dirname(join(DIST, name)), { recursive: true });
      await rename(join(staging, name), join(DIST, name));
    }
    // Chunks and entries of earlier builds that no build makes any more (the hub was dist/switchboard.mjs).
    for (const folder of ["", "hub-packages/"]) {
      for (const name of await readdir(join(DIST, folder))) {
        const path = `${folder}${name}`;
        if (/\.[cm]js$/.test(name) && !outputs.includes(path)) await rm(join(DIST, path), { force: true });
      }
    }
    // The project files the bundles were made of; the locked dependencies and this build stand for the rest.
    const inputs = results
      .flatMap((result) => Object.keys(result.metafile?.inputs ?? {}))
      .filter((input) => !/^[a-z-]+:/.test(input)) // the plugins' stand-ins (builtin:, hub-package:)
      .map((input) => relative(REPO, join(process.cwd(), input)))
      .filter((input) => !input.startsWith("node_modules") && !input.startsWith(".."));
    inputs.push("package-lock.json", "server/build.ts", "client/launch.js");
    const manifest = { entries: Object.keys(ENTRY_POINTS), inputs: [...new Set(inputs)].sort() };
    const partial = `${BUILD_MANIFEST}.${process.pid}.tmp`;
    await writeFile(partial, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(partial, BUILD_MANIFEST);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return true;
}

/**
 * Warns of a start-up file holding a character outside ASCII: Node reads such a file into a
 * two-byte string, a third slower (the hub's 1 MB file: about 14 ms instead of 10). esbuild writes
 * strings with escapes, but not regular expression literals: write those characters as \uXXXX.
 * test/integration/entry-bundles.test.ts keeps the project's own bundles to it.
 */
async function warnOutsideAscii(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    const bytes = await readFile(join(dir, name));
    const at = bytes.findIndex((byte) => byte > 0x7f);
    if (at >= 0) {
      const near = bytes.subarray(Math.max(0, at - 40), at + 10).toString("utf8");
      process.stderr.write(
        `switchboard: dist/${name} holds a character outside ASCII, near ${JSON.stringify(near)}, and starts a ` +
          "little slower for it: write it as a \\u escape in the source (a regular expression literal keeps it as it is)\n",
      );
    }
  }
}

/** Bundles one `entry` into the single CommonJS file `outfile` as the hub's are (the benchmark's bare server). */
export async function bundleOne(entry: string, outfile: string): Promise<void> {
  await mkdir(join(outfile, ".."), { recursive: true });
  // All of fastify in it: a bare server uses the JSON schema compilers the hub leaves out.
  await build({ ...HUB_BUILD, entryPoints: [entry], outfile, external: [], plugins: [] });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const force = process.argv.includes("--force");
  // client/launch.js asks for the bundles only: a channel or the CLI does not need the dashboard.
  const bundlesOnly = process.argv.includes("--bundles");
  const { buildDashboard } = await import("../client/dashboard/build.ts");
  const dashboard = bundlesOnly ? false : await buildDashboard({ force });
  const bundles = await buildBundles({ force });
  // The switchboard/session|warmup|client package (client/package/build.ts), for a router in
  // another process: `npm start` builds it with the hub it talks to.
  const { buildPackage } = await import("../client/package/build.ts");
  const packaged = bundlesOnly ? false : await buildPackage({ force });
  process.stdout.write(
    `switchboard: dashboard ${dashboard ? "built into dist/dashboard" : bundlesOnly ? "not asked for" : "is up to date"}; ` +
      `entry points ${bundles ? "bundled into dist/" : "are up to date"}; ` +
      `package ${packaged ? "built into dist/package" : bundlesOnly ? "not asked for" : "is up to date"}
`,
  );
}
