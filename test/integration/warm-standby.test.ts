// Warm standby in a real hub: statuses and reasons from real pings of fake CLIs and a fake
// Ollama, backoff, joined pings, session TTL, shutdown with no child left, time-driven
// transitions pushed over WebSocket, and persistence across a restart. Time is a ManualClock.
import { execFileSync } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { claudeBackend } from "../../server/backends/claude.ts";
import { codexBackend } from "../../server/backends/codex.ts";
import { backendSettingsSchema } from "../../server/backends/settings.ts";
import { silentLogger } from "../../server/log.ts";
import { type RunningHub, startHub } from "../../server/start.ts";
import { ManualClock, systemClock } from "../../shared/clock.ts";
import type { BackendHealth } from "../../shared/schemas.ts";
import { emptyPathEnv, fakeCliCalls, fakeCliEnv, groupMembers } from "../fixtures/fake-cli-env.ts";
import { type FakeOllama, startFakeOllama } from "../fixtures/fake-ollama.ts";
import { hubClient, makeDataDir, testConfig } from "../helpers/hub.ts";

const MIN = 60_000;
let hubs: RunningHub[] = [];
let dataDirs: string[] = [];
let ollama: FakeOllama | null = null;

afterEach(async () => {
  for (const hub of hubs) await hub.close();
  hubs = [];
  await ollama?.close();
  ollama = null;
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  dataDirs = [];
});

async function warmStandbyHub(options: {
  backends: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  clock?: ManualClock;
  warmup?: Record<string, unknown>;
  dataDir?: string;
}): Promise<RunningHub & { clock: ManualClock; dataDir: string }> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  if (!options.dataDir) dataDirs.push(dataDir);
  const clock = options.clock ?? new ManualClock();
  const hub = await startHub({
    config: testConfig({ backends: options.backends, warmup: options.warmup ?? {} }, dataDir),
    secrets: { token: null },
    logger: silentLogger,
    clock,
    backendEnv: options.env ?? {},
  });
  hubs.push(hub);
  return Object.assign(hub, { clock, dataDir });
}

const entryOf = (hub: RunningHub, name: string) => hub.warmStandby.getHealth(name);
const liveIn = (pgid: number) => groupMembers(pgid).filter((p) => p.state !== "Z");
/** Fires the first (immediate) pings and waits until `name` has been pinged `count` times in all. */
async function pinged(hub: RunningHub & { clock: ManualClock }, name: string, lastPing: string | null = null) {
  hub.clock.advance(0);
  await expect
    .poll(() => entryOf(hub, name).lastPing !== lastPing, { timeout: 10_000, message: `${name} to be pinged` })
    .toBeTruthy();
  return entryOf(hub, name);
}

describe("statuses and reasons from real pings", () => {
  it("a logged-in CLI is warm, with its version, auth method, latency and times", async () => {
    const { env } = await fakeCliEnv({ FAKE_CLI_VERSION: "2.2.0 (Claude Code)" });
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const entry = await pinged(hub, "claude");
    expect(entry).toMatchObject({
      kind: "claude",
      status: "warm",
      reason: null,
      version: "2.2.0 (Claude Code)",
      authMethod: "claude.ai",
      lastPing: new Date(hub.clock.now()).toISOString(),
      lastSuccess: new Date(hub.clock.now()).toISOString(),
      consecutiveFailures: 0,
      nextPingAt: new Date(hub.clock.now() + 15 * MIN).toISOString(),
    });
    expect(entry.latencyMs).toBeGreaterThan(0);
    expect(entry.latencyHistory).toHaveLength(1);
  });

  it.each([
    ["not installed", {}, true],
    ["not logged in", { FAKE_CLI_AUTH: "logged-out" }, false],
  ] as const)("claude is dead with reason %j", async (reason, modes, noPath) => {
    const env = noPath ? emptyPathEnv() : (await fakeCliEnv(modes)).env;
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    expect(await pinged(hub, "claude")).toMatchObject({ status: "dead", reason, consecutiveFailures: 1 });
  });

  it("a hung CLI is killed with its group and the backend is dead, 'timed out'", async () => {
    const { env, log } = await fakeCliEnv({ FAKE_CLI_HANG: "version", FAKE_CLI_CHILD: "1" });
    const hub = await warmStandbyHub({ backends: { codex: { kind: "codex" } }, env });
    hub.clock.advance(0);
    await expect
      .poll(async () => (await fakeCliCalls(log)).length === 1, {
        timeout: 10_000,
        message: "codex --version to start",
      })
      .toBeTruthy();
    const [call] = await fakeCliCalls(log);
    await expect
      .poll(() => groupMembers(call!.pgid).length >= 2, { timeout: 10_000, message: "its grandchild to start" })
      .toBeTruthy();
    hub.clock.advance(20_000);
    await expect
      .poll(() => entryOf(hub, "codex").lastPing !== null, { timeout: 10_000, message: "the ping to end" })
      .toBeTruthy();
    expect(entryOf(hub, "codex")).toMatchObject({ status: "dead", reason: "timed out" });
    await expect
      .poll(() => liveIn(call!.pgid).length === 0, { timeout: 10_000, message: "the hung group to die" })
      .toBeTruthy();
  });

  it("an Ollama that refuses connections is dead, 'unreachable'; one with a loaded model is warm", async () => {
    ollama = await startFakeOllama();
    ollama.loaded.add("llama3.2:latest");
    const url = ollama.url;
    const hub = await warmStandbyHub({
      backends: { ollama: { kind: "ollama", url }, spare: { kind: "ollama", url: "http://127.0.0.1:9" } },
    });
    await pinged(hub, "ollama");
    await expect
      .poll(() => entryOf(hub, "spare").lastPing !== null, { timeout: 10_000, message: "spare to be pinged" })
      .toBeTruthy();
    expect(entryOf(hub, "ollama")).toMatchObject({ status: "warm", loadedModels: ["llama3.2:latest"] });
    expect(entryOf(hub, "spare")).toMatchObject({ status: "dead", reason: "unreachable" });
    // A loaded model keeps it warm past the warm window (until the ping is stale).
    hub.clock.advance(10 * MIN);
    expect(entryOf(hub, "ollama").status).toBe("warm");
  });
});

describe("ping scheduling", () => {
  it("the first pings wait warmup.firstPingDelayMs after start-up, so the hub serves its first clients first", async () => {
    const { env, log } = await fakeCliEnv();
    const clock = new ManualClock();
    const startedAt = clock.now();
    const hub = await warmStandbyHub({
      backends: { codex: { kind: "codex" } },
      env,
      clock,
      warmup: { firstPingDelayMs: 1000 },
    });
    expect(entryOf(hub, "codex")).toMatchObject({
      lastPing: null,
      nextPingAt: new Date(startedAt + 1000).toISOString(),
    });
    hub.clock.advance(999);
    expect(entryOf(hub, "codex").lastPing).toBeNull();
    hub.clock.advance(1);
    await expect
      .poll(() => entryOf(hub, "codex").lastPing !== null, { timeout: 10_000, message: "the first ping" })
      .toBeTruthy();
    expect((await fakeCliCalls(log)).map((c) => c.argv[0])).toContain("--version");
  });

  it("a dead backend is retried after 30 s, then 60 s, 120 s …, and its recovery is seen within a minute", async () => {
    ollama = await startFakeOllama();
    ollama.mode = "error";
    const hub = await warmStandbyHub({ backends: { ollama: { kind: "ollama", url: ollama.url } } });
    let entry = await pinged(hub, "ollama");
    expect(entry).toMatchObject({ status: "dead", reason: "unexpected response (HTTP 500)", consecutiveFailures: 1 });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const delay = Date.parse(entry.nextPingAt!) - hub.clock.now();
      delays.push(delay);
      hub.clock.advance(delay - 1);
      expect(entryOf(hub, "ollama").lastPing).toBe(entry.lastPing); // not a moment early
      const before = entry.lastPing;
      hub.clock.advance(1);
      entry = await pinged(hub, "ollama", before);
    }
    expect(delays).toEqual([30_000, 60_000, 120_000]);
    expect(entry.consecutiveFailures).toBe(4);
    ollama.mode = "ok";
    const before = entry.lastPing;
    hub.clock.advance(Date.parse(entry.nextPingAt!) - hub.clock.now());
    entry = await pinged(hub, "ollama", before);
    expect(entry).toMatchObject({ status: "warm", consecutiveFailures: 0, reason: null });
  });

  it("pingNow while a ping is in flight joins it instead of starting another", async () => {
    const { env, log } = await fakeCliEnv();
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const first = hub.warmStandby.pingNow("claude");
    const second = hub.warmStandby.pingNow("claude");
    expect(second).toBe(first);
    await first;
    expect((await fakeCliCalls(log)).filter((c) => c.argv[0] === "--version")).toHaveLength(1);
  });

  it("a healthy backend is pinged again after the interval", async () => {
    const { env, log } = await fakeCliEnv();
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const entry = await pinged(hub, "claude");
    hub.clock.advance(15 * MIN);
    await pinged(hub, "claude", entry.lastPing);
    expect((await fakeCliCalls(log)).filter((c) => c.argv[0] === "--version")).toHaveLength(2);
  });
  it("pausePinging stops the periodic pings (a scheduled one never runs) and says so in the health document; resumePinging starts them again", async () => {
    const { env, log } = await fakeCliEnv();
    const hub = await warmStandbyHub({
      backends: { claude: { kind: "claude" } },
      env,
      warmup: { firstPingDelayMs: 1000 },
    });
    hub.clock.advance(1000);
    await expect
      .poll(() => entryOf(hub, "claude").lastPing !== null, { timeout: 10_000, message: "the first ping" })
      .toBeTruthy();
    const entry = entryOf(hub, "claude");
    const versionCalls = async () => (await fakeCliCalls(log)).filter((c) => c.argv[0] === "--version").length;
    expect(await versionCalls()).toBe(1);
    await hub.warmStandby.pausePinging();
    expect(hub.warmStandby.getHealth().pingsPaused).toBe(true);
    hub.clock.advance(60 * MIN);
    expect(entryOf(hub, "claude")).toMatchObject({ lastPing: entry.lastPing, status: "cold" });
    await hub.warmStandby.resumePinging();
    expect(hub.warmStandby.getHealth().pingsPaused).toBe(false);
    // The ping overdue since the pause waits firstPingDelayMs after the resume, then runs.
    hub.clock.advance(999);
    expect(entryOf(hub, "claude").lastPing).toBe(entry.lastPing);
    hub.clock.advance(1);
    await expect
      .poll(() => entryOf(hub, "claude").lastPing !== entry.lastPing, {
        timeout: 10_000,
        message: "the ping after resume",
      })
      .toBeTruthy();
    expect(entryOf(hub, "claude").status).toBe("warm");
    expect(await versionCalls()).toBe(2);
  });
});

describe("pre-warmed sessions", () => {
  it("preWarm returns at once; the session becomes ready, makes the backend warm, and dies unused after its TTL", async () => {
    const { env, log } = await fakeCliEnv({ FAKE_CLI_START_DELAY_MS: "200", FAKE_CLI_CHILD: "1" });
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const session = hub.warmStandby.preWarm("claude");
    expect(session).toMatchObject({ state: "starting", readyAt: null });
    expect(session.pid).toBeGreaterThan(0);
    await expect
      .poll(() => entryOf(hub, "claude").prewarmed[0]?.state === "ready", { timeout: 10_000, message: "ready" })
      .toBeTruthy();
    expect(entryOf(hub, "claude").status).toBe("warm");
    // At most one per backend: asking again returns the same session.
    expect(hub.warmStandby.preWarm("claude").id).toBe(session.id);
    await expect
      .poll(async () => (await fakeCliCalls(log)).length === 1, {
        timeout: 10_000,
        message: "the session's CLI to start",
      })
      .toBeTruthy();
    const [call] = await fakeCliCalls(log);
    // Stream-json mode first; the default workspace's options (issue 14) follow.
    expect(call?.argv.slice(0, 6)).toEqual([
      "-p",
      "--input-format",
      "stream-json",
      "--output-format",
      "stream-json",
      "--verbose",
    ]);
    await expect
      .poll(() => groupMembers(session.pid!).length >= 2, { timeout: 10_000, message: "its grandchild" })
      .toBeTruthy();
    hub.clock.advance(2 * MIN - 1);
    expect(liveIn(session.pid!).length).toBeGreaterThan(0);
    hub.clock.advance(1);
    await expect
      .poll(() => liveIn(session.pid!).length === 0, { timeout: 10_000, message: "the expired session to die" })
      .toBeTruthy();
    expect(entryOf(hub, "claude").prewarmed).toEqual([]);
  });

  it("a warm dispatch takes the ready session (marked busy) and runs on that process", async () => {
    const { env, log } = await fakeCliEnv();
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const session = hub.warmStandby.preWarm("claude");
    await expect
      .poll(() => entryOf(hub, "claude").prewarmed[0]?.state === "ready", { timeout: 10_000, message: "ready" })
      .toBeTruthy();
    const result = await hub.warmStandby.dispatch("claude", {
      prompt: "hi",
      onOutput: () => {},
      signal: new AbortController().signal,
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({ output: "echo: hi", start: "warm" });
    expect((await fakeCliCalls(log)).map((c) => c.pid)).toEqual([session.pid]);
    await expect
      .poll(() => entryOf(hub, "claude").prewarmed.length === 0, {
        timeout: 10_000,
        message: "the used session to leave",
      })
      .toBeTruthy();
    const cold = await hub.warmStandby.dispatch("claude", {
      prompt: "again",
      onOutput: () => {},
      signal: new AbortController().signal,
      timeoutMs: 10_000,
    });
    expect(cold.start).toBe("cold");
  });

  it("closing the hub kills every session and ping: no process of theirs is left in the process table", async () => {
    const { env, log } = await fakeCliEnv({ FAKE_CLI_CHILD: "1", FAKE_CLI_HANG: "auth", FAKE_CLI_IGNORE_SIGTERM: "1" });
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" }, codex: { kind: "codex" } }, env });
    const sessions = [hub.warmStandby.preWarm("claude"), hub.warmStandby.preWarm("codex")];
    hub.clock.advance(0); // the first pings start, and hang in auth status
    await expect
      .poll(async () => (await fakeCliCalls(log)).length === 6, {
        timeout: 10_000,
        message: "sessions and pings to start",
      })
      .toBeTruthy();
    const groups = (await fakeCliCalls(log)).map((c) => c.pgid);
    expect(new Set(groups).size).toBe(6);
    await expect
      .poll(() => sessions.every((s) => groupMembers(s.pid!).length >= 2), {
        timeout: 10_000,
        message: "grandchildren",
      })
      .toBeTruthy();
    await hub.close();
    hubs = [];
    // Our children are gone and reaped; grandchildren are gone (reaping those orphans is init's job).
    for (const pgid of groups) expect(liveIn(pgid)).toEqual([]);
    const ours = execFileSync("ps", ["-o", "pid=,stat=", "--ppid", String(process.pid)], { encoding: "utf8" });
    expect(ours.split("\n").filter((line) => /\bZ/.test(line))).toEqual([]);
  });

  it("automatic pre-warm is off by default, and when on starts a session the lead time before dispatch", async () => {
    const { env, log } = await fakeCliEnv();
    const off = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    expect(off.warmStandby.scheduleAutoPrewarm("claude", off.clock.now() + MIN)).toBeNull();
    const on = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env, warmup: { autoPrewarm: true } });
    const plan = on.warmStandby.scheduleAutoPrewarm("claude", on.clock.now() + 2 * MIN);
    expect(plan?.at).toBe(new Date(on.clock.now() + 90_000).toISOString());
    on.clock.advance(90_000 - 1);
    expect(entryOf(on, "claude").prewarmed).toEqual([]);
    on.clock.advance(1);
    expect(entryOf(on, "claude").prewarmed).toHaveLength(1);
    await expect
      .poll(async () => (await fakeCliCalls(log)).some((c) => c.argv.includes("stream-json")), { timeout: 10_000 })
      .toBeTruthy();
  });
});

describe("live and durable", () => {
  it("warm turns healthy at the minute the warm window ends, pushed over WebSocket with no ping or poll", async () => {
    const { env, log } = await fakeCliEnv();
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    await pinged(hub, "claude");
    const client = hubClient(hub);
    const changes: { status: string; at: number }[] = [];
    client.on("health-changed", (event: { entry: BackendHealth }) =>
      changes.push({ status: event.entry.status, at: hub.clock.now() }),
    );
    await client.connect();
    await expect
      .poll(() => client.health?.backends.claude?.status === "warm", { timeout: 10_000, message: "the snapshot" })
      .toBeTruthy();
    changes.length = 0;
    const callsBefore = (await fakeCliCalls(log)).length;
    hub.clock.advance(5 * MIN - 1);
    hub.clock.advance(1);
    await expect
      .poll(() => client.health?.backends.claude?.status === "healthy", {
        timeout: 10_000,
        message: "the pushed change",
      })
      .toBeTruthy();
    client.close();
    expect(changes).toEqual([{ status: "healthy", at: Date.parse(entryOf(hub, "claude").lastSuccess!) + 5 * MIN }]);
    expect((await fakeCliCalls(log)).length).toBe(callsBefore);
  });

  it("after a restart, statuses are recomputed from the persisted timestamps and stale sessions are cleared", async () => {
    const { env } = await fakeCliEnv();
    const first = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const pingedEntry = await pinged(first, "claude");
    first.warmStandby.preWarm("claude");
    await expect
      .poll(() => entryOf(first, "claude").prewarmed[0]?.state === "ready", { timeout: 10_000, message: "ready" })
      .toBeTruthy();
    await first.health.persist();
    // Simulates a hub killed with its session still listed: only the file survives.
    const crashed = structuredClone(first.health.state);
    await first.close();
    hubs = [];
    await first.health.file?.write(() => crashed);
    expect(crashed.backends.claude?.prewarmed).toHaveLength(1);

    const six = new ManualClock(Date.parse(pingedEntry.lastSuccess!) + 6 * MIN);
    const second = await warmStandbyHub({
      backends: { claude: { kind: "claude" } },
      env,
      clock: six,
      dataDir: first.dataDir,
    });
    expect(entryOf(second, "claude")).toMatchObject({
      status: "healthy",
      version: pingedEntry.version,
      lastSuccess: pingedEntry.lastSuccess,
      prewarmed: [],
    });
    await second.close();
    hubs = [];

    const later = new ManualClock(Date.parse(pingedEntry.lastSuccess!) + 17 * MIN);
    const third = await warmStandbyHub({
      backends: { claude: { kind: "claude" } },
      env: emptyPathEnv(),
      clock: later,
      dataDir: first.dataDir,
    });
    expect(entryOf(third, "claude").status).toBe("cold");
  });
});

describe("REST", () => {
  it("GET /api/health and /api/health/:backend answer the document; an unknown backend is 404", async () => {
    const { env } = await fakeCliEnv();
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const all = await fetch(`${hub.url}/api/health`).then((r) => r.json());
    expect(all).toEqual(hub.health.state);
    const one = await fetch(`${hub.url}/api/health/claude`);
    expect(await one.json()).toEqual(entryOf(hub, "claude"));
    const missing = await fetch(`${hub.url}/api/health/gpt`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.message).toMatch(/no backend named "gpt"; configured: claude/);
  });

  it("POST ping answers with the fresh entry; POST prewarm with the session (202); a body with fields is 400 and changes nothing", async () => {
    const { env } = await fakeCliEnv();
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const post = (path: string, body?: string) =>
      fetch(`${hub.url}${path}`, {
        method: "POST",
        ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } }),
      });
    const ping = await post("/api/health/claude/ping");
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ status: "warm", version: "2.1.4 (Claude Code)" });
    const version = hub.health.version;
    const bad = await post("/api/health/claude/prewarm", '{"model":"opus"}');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/unknown field "model"/);
    expect(hub.health.version).toBe(version);
    const prewarm = await post("/api/health/claude/prewarm", "{}");
    expect(prewarm.status).toBe(202);
    expect(await prewarm.json()).toMatchObject({ backend: "claude", session: { state: "starting" } });
  });

  it("POST ping and POST prewarm are answered once their health change is durable: the file already holds it", async () => {
    const { env } = await fakeCliEnv();
    const hub = await warmStandbyHub({ backends: { claude: { kind: "claude" } }, env });
    const onDisk = async () =>
      JSON.parse(await readFile(join(hub.dataDir, "backend-health.json"), "utf8")).backends.claude as BackendHealth;
    const ping = await fetch(`${hub.url}/api/health/claude/ping`, { method: "POST" });
    const pinged = (await ping.json()) as BackendHealth;
    expect((await onDisk()).lastPing).toBe(pinged.lastPing);
    const prewarm = await fetch(`${hub.url}/api/health/claude/prewarm`, { method: "POST" });
    const { session } = (await prewarm.json()) as { session: { id: string } };
    expect((await onDisk()).prewarmed.map((s) => s.id)).toContain(session.id);
  });
});

const onPath = (command: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const hasClaude = onPath("claude");
const hasCodex = onPath("codex");

describe("the real CLIs, where installed", () => {
  const real = { clock: systemClock, logger: silentLogger, env: process.env };
  it.skipIf(!hasClaude)(
    `claude --version and auth status parse${hasClaude ? "" : " (skipped: claude is not on PATH)"}`,
    async () => {
      const result = await claudeBackend.ping(backendSettingsSchema.parse({ kind: "claude" }), real, {
        timeoutMs: 30_000,
      });
      if (result.ok) expect(result.version).toMatch(/\d+\.\d+/);
      else expect(result.reason).toBe("not logged in");
    },
  );
  it.skipIf(!hasCodex)(
    `codex --version and login status parse${hasCodex ? "" : " (skipped: codex is not on PATH)"}`,
    async () => {
      const result = await codexBackend.ping(backendSettingsSchema.parse({ kind: "codex" }), real, {
        timeoutMs: 30_000,
      });
      if (result.ok) expect(result.version).toMatch(/\d+\.\d+/);
      else expect(result.reason).toBe("not logged in");
    },
  );
});
