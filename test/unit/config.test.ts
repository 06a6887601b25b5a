// config.json: defaults, and errors that name the key, what it must be, and what was found.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfig } from "../../server/config.ts";
import { parseStartArgs, readSecrets, resolveConfig } from "../../server/start-options.ts";
import { SLACK_DEFAULTS, TELEGRAM_DEFAULTS, VOICE_DEFAULTS } from "../../shared/defaults.ts";

function configError(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be refused");
}

describe("parseConfig", () => {
  it("accepts {} and fills in every default", () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 7433,
      dataDir: "data",
      logLevel: "info",
      context: { recentLimit: 10 },
      persistence: { fsync: true, retryDelayMs: 2000 },
      hub: { bodyLimitBytes: 1048576, historyLimit: 1000 },
      warmup: { intervalMs: 900_000, warmWindowMs: 300_000 },
    });
  });

  it("starts the voice, Telegram and Slack channels with the defaults `npm run voice`, `telegram` and `slack` use", () => {
    const { voice, telegram, slack } = parseConfig({});
    expect(voice).toEqual({ enabled: false, ...VOICE_DEFAULTS });
    expect(telegram).toEqual({ enabled: false, ...TELEGRAM_DEFAULTS });
    expect(slack).toEqual({ enabled: false, startAdapter: true, ...SLACK_DEFAULTS, userIds: [] });
  });

  it("accepts the repository's own config.json", async () => {
    const config = await loadConfigFile(join(import.meta.dirname, "..", "..", "config.json"));
    expect(config.port).toBe(7433);
  });

  it("the shipped config.json lists every session and warmup setting with its default, under the seed's names", async () => {
    const shipped = JSON.parse(await readFile(join(import.meta.dirname, "..", "..", "config.json"), "utf8"));
    const defaults = parseConfig({});
    expect(shipped.session).toEqual(defaults.context);
    expect(shipped.warmup).toEqual(defaults.warmup);
    expect(shipped.notify).toEqual(defaults.notify);
  });

  it("accepts the seed's name session for the context settings, and names it in errors", () => {
    expect(parseConfig({ session: { recentLimit: 3 } }).context.recentLimit).toBe(3);
    expect(parseConfig({ context: { recentLimit: 4 } }).context.recentLimit).toBe(4);
    expect(configError({ session: { recentLimit: 0 } })).toBe(
      "config.json: session.recentLimit must be a positive integer (got 0)",
    );
    expect(configError({ session: { keep: 1 } })).toBe(
      'config.json: unknown key "keep" in session (remove it or check its spelling)',
    );
    expect(configError({ session: {}, context: {} })).toBe(
      'config.json: give the session settings once, as "session" (or its other name "context")',
    );
  });

  it("accepts warmup.graceMs 0, so healthy lasts exactly the ping interval", () => {
    expect(parseConfig({ warmup: { graceMs: 0 } }).warmup.graceMs).toBe(0);
    expect(parseConfig({}).warmup.graceMs).toBe(60_000);
    expect(configError({ warmup: { graceMs: -1 } })).toBe(
      "config.json: warmup.graceMs must be an integer of 0 or more (got -1)",
    );
  });

  it.each([
    [{ port: "7433" }, 'config.json: port must be a port number from 0 to 65535 (got "7433")'],
    [{ port: 70000 }, "config.json: port must be a port number from 0 to 65535 (got 70000)"],
    [{ warmup: { intervalMs: -5 } }, "config.json: warmup.intervalMs must be a positive integer (got -5)"],
    [{ warmup: { intervalMs: "15m" } }, 'config.json: warmup.intervalMs must be a positive integer (got "15m")'],
    [{ context: { recentLimit: 0 } }, "config.json: context.recentLimit must be a positive integer (got 0)"],
    [{ persistence: { fsync: "yes" } }, 'config.json: persistence.fsync must be true or false (got "yes")'],
    [{ logLevel: "loud" }, 'config.json: logLevel must be one of debug, info, warn, error, silent (got "loud")'],
    [{ prot: 1 }, 'config.json: unknown key "prot" (remove it or check its spelling)'],
    [{ hub: { bodyLimit: 1 } }, 'config.json: unknown key "bodyLimit" in hub (remove it or check its spelling)'],
    [
      { workspaces: { site: { path: "s", claude: { permissionMode: "yolo" } } } },
      'config.json: workspaces.site.claude.permissionMode must be one of default, acceptEdits, plan, auto, dontAsk, bypassPermissions (got "yolo")',
    ],
    [
      { workspaces: { site: { path: "s", codex: { sandbox: "none" } } } },
      'config.json: workspaces.site.codex.sandbox must be one of read-only, workspace-write, danger-full-access (got "none")',
    ],
    [
      { workspaces: { site: { path: "s", claude: { approveTools: "maybe" } } } },
      'config.json: workspaces.site.claude.approveTools must be "ask", "allow" or "deny" (got "maybe")',
    ],
    [{ workspaces: { site: {} } }, "config.json: workspaces.site.path must be a folder path (got nothing)"],
    [
      { workspaces: { "My Site": { path: "s" } } },
      'config.json: workspaces.My Site is not a valid workspace name: use lowercase letters, digits, _ or - (at most 40) (got "My Site")',
    ],
    [
      { workspaces: { site: { path: "s" } }, router: { defaultWorkspace: "docs" } },
      'config.json: router.defaultWorkspace names "docs", which is not in workspaces (configured: site)',
    ],
  ])("refuses %j with one line naming the key, the expected value and what was found", (raw, message) => {
    expect(configError(raw)).toBe(message);
  });

  it("refuses a token in the file and says secrets come from the environment", () => {
    expect(configError({ token: "s3cret" })).toMatch(/unknown key "token".*SWITCHBOARD_TOKEN/);
  });
});

describe("loadConfigFile", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchboard-config-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves dataDir relative to the config file, not the working directory", async () => {
    await writeFile(join(dir, "config.json"), JSON.stringify({ dataDir: "state" }));
    expect((await loadConfigFile(join(dir, "config.json"))).dataDir).toBe(join(dir, "state"));
  });

  it("resolves workspace folders and their extra Claude folders relative to the config file", async () => {
    const workspaces = {
      site: { path: "../site", claude: { addDirs: ["shared", "/abs/other"] } },
      tmp: { path: "/tmp" },
    };
    await writeFile(join(dir, "config.json"), JSON.stringify({ workspaces }));
    const config = await loadConfigFile(join(dir, "config.json"));
    expect(config.workspaces.site?.path).toBe(join(dir, "..", "site"));
    expect(config.workspaces.site?.claude.addDirs).toEqual([join(dir, "shared"), "/abs/other"]);
    expect(config.workspaces.tmp?.path).toBe("/tmp");
    expect(config.workspaces.tmp?.claude).toMatchObject({ approveTools: "ask", approvalTimeoutMs: 600_000 });
  });

  it("names a file that is not valid JSON, in one line even when the file has many", async () => {
    await writeFile(join(dir, "config.json"), '{\n  "port": 7433,\n  "host":\n}\n');
    const error = await loadConfigFile(join(dir, "config.json")).then(
      () => new Error("expected the file to be refused"),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/config\.json: is not valid JSON/);
    expect(error.message).not.toContain("\n");
  });

  it("names a file that cannot be read", async () => {
    await expect(loadConfigFile(join(dir, "missing.json"))).rejects.toThrow(/missing\.json: cannot be read \(ENOENT\)/);
  });

  it("lets --port, --host and --data-dir override the file", async () => {
    await writeFile(join(dir, "config.json"), JSON.stringify({ port: 1234 }));
    const config = await resolveConfig(
      parseStartArgs(["--config", join(dir, "config.json"), "--port", "0", "--host", "::1", "--data-dir", dir]),
    );
    expect(config).toMatchObject({ port: 0, host: "::1", dataDir: dir });
  });
});

describe("parseStartArgs", () => {
  it("refuses a port that is not a number from 0 to 65535", () => {
    expect(() => parseStartArgs(["--port", "eighty"])).toThrow(
      '--port must be a port number from 0 to 65535 (got "eighty")',
    );
    expect(() => parseStartArgs(["--port", "-1"])).toThrow(ConfigError);
  });

  it("refuses an unknown option with the usage line", () => {
    expect(() => parseStartArgs(["--verbose"])).toThrow(/Usage: npm start -- \[--config FILE\]/);
  });
});

describe("readSecrets", () => {
  it("reads the token only from the environment, ignoring blank values", () => {
    expect(readSecrets({ SWITCHBOARD_TOKEN: " abc " })).toEqual({ token: "abc" });
    expect(readSecrets({ SWITCHBOARD_TOKEN: "  " })).toEqual({ token: null });
    expect(readSecrets({})).toEqual({ token: null });
  });
});
