// Attacks, as an attacker would try them against a hub started with a token: spellings of a path
// that reach a guarded route, the token where it does not belong, secrets in the log, bind names
// that only look loopback. Each class stays fixed here.
import { mkdtemp, readdir, readFile, realpath, rm, symlink } from "node:fs/promises";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WebSocket } from "ws";
import { slackViews } from "../../client/slack/blocks.ts";
import { createTelegramAdapter } from "../../client/telegram/adapter.ts";
import { startStatusServer, VoiceStartError } from "../../client/voice/status-server.ts";
import { createLogger } from "../../server/log.ts";
import type { SlackAccess } from "../../server/slack-access.ts";
import {
  SLACK_COMMANDS_PATH,
  SLACK_EVENTS_PATH,
  SLACK_INTERACTIONS_PATH,
  slackEndpoint,
} from "../../server/slack-endpoint.ts";
import { StartupError, startHub } from "../../server/start.ts";
import type { SlackThreadReply } from "../../shared/slack-thread-reply.ts";
import { fakeCliCalls } from "../fixtures/fake-cli-env.ts";
import { startFakeSlack } from "../fixtures/fake-slack.ts";
import { startFakeTelegram } from "../fixtures/fake-telegram.ts";
import { hubClient, makeDataDir, startTestHub, type TestHub, testConfig } from "../helpers/hub.ts";
import { json, openRawSocket, rawRequest, UpgradeRefused } from "../helpers/raw-socket.ts";
import { cleanupRouterHubs, routerHub } from "../helpers/router-hub.ts";
import { signedSlackRequest } from "../helpers/slack-request.ts";

// One name resolves as an attacker's DNS would answer it: a *.localhost name pointing elsewhere.
vi.mock("node:dns/promises", async (importOriginal) => {
  const dns = await importOriginal<typeof import("node:dns/promises")>();
  const lookup = ((host: string, options: import("node:dns").LookupAllOptions) =>
    host === "switchboard.localhost"
      ? Promise.resolve([{ address: "192.0.2.7", family: 4 }])
      : dns.lookup(host, options)) as unknown as typeof dns.lookup;
  return { ...dns, lookup, default: { ...dns, lookup } };
});

const TOKEN = "correct-horse-battery-staple";
let hub: TestHub | null = null;

afterEach(async () => {
  await hub?.stop();
  hub = null;
  await cleanupRouterHubs();
  vi.unstubAllEnvs();
});

/** Sends one request exactly as written (request target included) and returns its status. */
function rawStatus(port: number, requestText: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(requestText));
    let received = "";
    socket.on("data", (chunk) => {
      received += String(chunk);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (status) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.on("error", reject);
    socket.on("end", () => reject(new Error(`connection closed without a status line: ${received}`)));
  });
}

function get(port: number, target: string, extra = ""): Promise<number> {
  return rawStatus(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${extra}\r\n`);
}

const upgradeHeaders =
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

describe("the token rule is decided on the matched route, not on the raw URL", () => {
  it.each([["/%61pi/context"], ["/%61%70%69/health"], ["/%68ealthz"]])(
    "refuses %s without the token (401)",
    async (target) => {
      hub = await startTestHub({ token: TOKEN });
      expect(await get(hub.port, target)).toBe(401);
    },
  );

  it("refuses an absolute-form request target naming a guarded path (401)", async () => {
    hub = await startTestHub({ token: TOKEN });
    expect(await get(hub.port, `http://127.0.0.1:${hub.port}/api/context`)).toBe(401);
    expect(await get(hub.port, `http://127.0.0.1:${hub.port}/healthz`)).toBe(401);
    expect(await get(hub.port, `http://127.0.0.1:${hub.port}/ws`, upgradeHeaders)).toBe(401);
  });

  it("refuses the WebSocket upgrade through a percent-escaped path without the token (401)", async () => {
    hub = await startTestHub({ token: TOKEN });
    expect(await get(hub.port, "/%77s", upgradeHeaders)).toBe(401);
  });

  it("answers a WebSocket upgrade only at /ws: elsewhere, public paths included, 404 and no handshake", async () => {
    hub = await startTestHub({ token: TOKEN });
    const bearer = `Authorization: Bearer ${TOKEN}\r\n`;
    // The dashboard's page is public, so the token rule lets it through: the path still decides.
    expect(await get(hub.port, "/", upgradeHeaders)).toBe(404);
    expect(await get(hub.port, "/", `${upgradeHeaders}${bearer}`)).toBe(404);
    expect(await get(hub.port, "/api/context", `${upgradeHeaders}${bearer}`)).toBe(404);
    expect(await get(hub.port, "/healthz", `${upgradeHeaders}${bearer}`)).toBe(404);
    expect(await get(hub.port, "/ws", `${upgradeHeaders}${bearer}`)).toBe(101);
  });

  it("denies by default: a path no route serves needs the token too (401, then 404 with it)", async () => {
    hub = await startTestHub({ token: TOKEN });
    expect((await rawRequest(`${hub.url}/api/nothing-here`)).status).toBe(401);
    const withToken = await rawRequest(`${hub.url}/api/nothing-here`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(withToken.status).toBe(404);
  });

  it("keeps the dashboard's page public (it asks for the token itself)", async () => {
    hub = await startTestHub({ token: TOKEN });
    // 200 when the dashboard is built, 503 saying how to build it otherwise; never 401.
    const page = await fetch(`${hub.url}/`);
    await page.arrayBuffer();
    expect([200, 503]).toContain(page.status);
  });
});

describe("?token= is accepted only on the WebSocket upgrade", () => {
  it("refuses ?token= on REST reads, mutations and /healthz (401), and changes nothing", async () => {
    hub = await startTestHub({ token: TOKEN });
    const query = `?token=${TOKEN}`;
    expect((await rawRequest(`${hub.url}/api/context${query}`)).status).toBe(401);
    expect((await rawRequest(`${hub.url}/healthz${query}`)).status).toBe(401);
    const created = await rawRequest(`${hub.url}/api/context/tasks${query}`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ description: "Sort the inbox", startedFrom: "cli" }),
    });
    expect(created.status).toBe(401);
    expect(hub.taskContext.getContext().activeTasks).toEqual([]);
  });

  it("accepts ?token= on the upgrade, as browsers need", async () => {
    hub = await startTestHub({ token: TOKEN });
    const raw = await openRawSocket(hub.url, { query: `?token=${TOKEN}` });
    raw.socket.terminate();
    await expect(openRawSocket(hub.url, { query: "?token=wrong" })).rejects.toEqual(new UpgradeRefused(401));
  });
});

describe("the log never holds a URL's query string", () => {
  it("logs a refused Slack request by its route, without the query it carried", async () => {
    const lines: string[] = [];
    const logger = createLogger("debug", (line) => lines.push(line));
    const running = await startHub({
      config: testConfig({}, await makeDataDir()),
      secrets: { token: TOKEN },
      logger,
      plugins: [
        slackEndpoint({
          signingSecret: "s3cret",
          access: { channels: ["C0DEV"], userIds: [] },
          views: {
            status: noView,
            task: noView,
            started: noView,
            notTaken: noView,
            textProblem: () => null,
            parseStart: (text: string) => ({ text }),
          },
          hubToken: TOKEN,
          logger,
        }),
      ],
    });
    try {
      const res = await rawRequest(`${running.url}/api/slack/commands?token=leaked-secret&x=1`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "command=%2Fswitchboard&text=status",
      });
      expect(res.status).toBe(401);
      expect(lines.some((line) => line.includes("/api/slack/commands"))).toBe(true);
      expect(lines.join("\n")).not.toContain("leaked-secret");
    } finally {
      await running.close();
    }
  });
});

const noView = () => ({ text: "", blocks: [] });

describe("binding is checked on addresses, not on how a name looks", () => {
  it("refuses a name that only looks loopback (*.localhost) but resolves elsewhere, without a token", async () => {
    // Resolved here to a non-loopback address whatever this machine's resolver does with
    // *.localhost (systemd-resolved answers 127.0.0.1, others nothing at all).
    const attempt = startHub({
      config: testConfig({ host: "switchboard.localhost" }),
      secrets: { token: null },
      logger: createLogger("silent"),
    });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
    await expect(attempt).rejects.toThrow(
      "refusing to listen on switchboard.localhost (192.0.2.7) without a token: set SWITCHBOARD_TOKEN, or use host 127.0.0.1",
    );
  });

  it("stops with a StartupError naming the host when the bind name does not resolve", async () => {
    const attempt = startHub({
      config: testConfig({ host: "no-such-host.invalid" }),
      secrets: { token: TOKEN },
      logger: createLogger("silent"),
    });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
    await expect(attempt).rejects.toThrow(/cannot resolve the host "no-such-host\.invalid"/);
  });

  it("listens on localhost without a token: every address it binds is loopback", async () => {
    hub = await startTestHub({ config: { host: "localhost" } });
    for (const bound of hub.hub.app.addresses()) {
      expect(["127.0.0.1", "::1"]).toContain(typeof bound === "string" ? bound : bound.address);
    }
  });
});

describe("backends never get the hub's secrets", () => {
  it("gives a backend process none of the hub's secrets, only the variables backends.<name>.env passes on purpose", async () => {
    for (const name of ["SWITCHBOARD_TOKEN", "TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]) {
      vi.stubEnv(name, "hub-secret");
    }
    vi.stubEnv("SWITCHBOARD_SOMETHING", "the hub's own");
    vi.stubEnv("PASSED_ON_PURPOSE", "yes");
    vi.stubEnv("NOT_PASSED", "no");
    const {
      hub: routed,
      client,
      log,
    } = await routerHub({
      backends: { claude: { kind: "claude", env: ["PASSED_ON_PURPOSE", "SLACK_BOT_TOKEN"] } },
    });
    const { taskId } = await client.route({ description: "what is 2+2", startedFrom: "cli" });
    await expect
      .poll(() => routed.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), { timeout: 15_000 })
      .toBeTruthy();
    const calls = await fakeCliCalls(log);
    // Pings, pre-warmed sessions and the task's own run alike.
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) {
      expect(call.envNames).toContain("PASSED_ON_PURPOSE");
      expect(call.envNames).toContain("PATH");
      for (const secret of [
        "SWITCHBOARD_TOKEN",
        "TELEGRAM_BOT_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SWITCHBOARD_SOMETHING",
        "NOT_PASSED",
      ]) {
        expect(call.envNames).not.toContain(secret);
      }
    }
  });
});

describe("backends never read the hub's token from a file either", () => {
  it("gives Claude's approval server only its own run's secret, which asks about that run and nothing else", async () => {
    const workspace = await realpath(await mkdtemp(join(tmpdir(), "switchboard-repo-")));
    try {
      const bash = { tool_name: "Bash", input: { command: "npm test" } };
      const {
        hub: routed,
        client,
        log,
      } = await routerHub({
        token: TOKEN,
        workspaces: { repo: { path: workspace, claude: { permissionMode: "default" } } },
        router: { defaultWorkspace: "repo" },
        modes: { FAKE_CLAUDE_TOOL_CALLS: JSON.stringify([bash]) },
      });
      const { taskId } = await client.route({ description: "run the tests", startedFrom: "cli" });
      await expect
        .poll(() => routed.taskContext.getActiveTask(taskId)?.awaitingApproval?.kind, { timeout: 20_000 })
        .toBe("tool");
      // The config Claude is pointed at (its own user can read it, and so can any backend).
      const run = (await fakeCliCalls(log)).find((c) => c.argv.includes("--mcp-config"));
      const configPath = run?.argv[run.argv.indexOf("--mcp-config") + 1] as string;
      const config = await readFile(configPath, "utf8");
      expect(config).not.toContain(TOKEN);
      const env = JSON.parse(config).mcpServers.switchboard.env;
      // The run's secret is no key to the hub: every other route refuses it.
      const asRun = { authorization: `Bearer ${env.SWITCHBOARD_PERMISSION_SECRET}` };
      expect((await rawRequest(`${routed.url}/api/context`, { headers: asRun })).status).toBe(401);
      // Nor does the hub's token, or no secret, stand for the run.
      const ask = (headers: Record<string, string>) =>
        rawRequest(`${routed.url}/api/tool-approvals`, {
          method: "POST",
          headers: { ...json, ...headers },
          body: JSON.stringify({ run: env.SWITCHBOARD_PERMISSION_RUN, ...bash }),
        });
      expect((await ask({ authorization: `Bearer ${TOKEN}` })).status).toBe(401);
      expect((await ask({})).status).toBe(401);
      // The approval server itself gets through: the call waits, and an approval lets the task finish.
      await client.approve(taskId, undefined, routed.taskContext.getActiveTask(taskId)?.awaitingApproval?.id);
      await expect
        .poll(() => routed.taskContext.getContext().recentCompleted.find((t) => t.taskId === taskId)?.status, {
          timeout: 20_000,
        })
        .toBe("complete");
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});

describe("backends never run in the hub's own directory", () => {
  it("runs health pings (--version, auth status) and pre-warmed sessions in the data directory's workspace folder", async () => {
    const { hub: routed, log } = await routerHub({
      backends: { claude: { kind: "claude" }, codex: { kind: "codex" } },
    });
    await routed.warmStandby.pingNow("codex");
    routed.warmStandby.preWarm("claude");
    // The pre-warmed process logs its start once it runs.
    await expect
      .poll(async () => (await fakeCliCalls(log)).some((c) => c.argv.includes("--input-format")))
      .toBeTruthy();
    const calls = await fakeCliCalls(log);
    const workspace = join(await realpath(routed.dataDir), "workspace");
    const kinds = (test: (argv: string[]) => boolean) => calls.filter((c) => test(c.argv));
    // Both kinds' version and auth commands, and the pre-warmed Claude process.
    expect(kinds((argv) => argv.includes("--version")).map((c) => c.name)).toEqual(
      expect.arrayContaining(["claude", "codex"]),
    );
    expect(kinds((argv) => argv.includes("status")).length).toBeGreaterThanOrEqual(2);
    expect(kinds((argv) => argv.includes("--input-format")).length).toBe(1);
    for (const call of calls) {
      expect({ argv: call.argv, cwd: call.cwd }).toEqual({ argv: call.argv, cwd: workspace });
    }
  });
});

describe("an outputPath cannot leave the artifacts directory through a symbolic link", () => {
  it("refuses at intake (400, nothing registered) a path whose folder is a link pointing outside", async () => {
    const outside = await mkdtemp(join(tmpdir(), "switchboard-outside-"));
    try {
      const { hub: routed, client, artifactsDir } = await routerHub();
      await symlink(outside, join(artifactsDir, "escape"));
      const refused = await client
        .route({ description: "Sneaky", startedFrom: "cli", outputPath: "escape/loot.md" })
        .then(
          () => null,
          (e: unknown) => e as { status: number; message: string },
        );
      expect(refused?.status).toBe(400);
      expect(refused?.message).toContain("leads outside the artifacts directory through a symbolic link");
      expect(routed.taskContext.getContext().activeTasks).toEqual([]);
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("fails the task readably, writing nothing outside, when the link appears after intake", async () => {
    const outside = await mkdtemp(join(tmpdir(), "switchboard-outside-"));
    try {
      const { hub: routed, client, artifactsDir } = await routerHub();
      const { taskId } = await client.route({
        description: "Two steps",
        startedFrom: "cli",
        outputPath: "later/loot.md",
        steps: [
          { title: "First", prompt: "one" },
          { title: "Second", prompt: "two", requiresApproval: true },
        ],
      });
      await expect
        .poll(() => routed.taskContext.getActiveTask(taskId)?.status === "pending-approval", { timeout: 15_000 })
        .toBeTruthy();
      // While the task waits, someone with access to the artifacts folder plants the link.
      await symlink(outside, join(artifactsDir, "later"));
      await client.approve(taskId, 2);
      await expect
        .poll(() => routed.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), {
          timeout: 15_000,
        })
        .toBeTruthy();
      const failed = routed.taskContext.getContext().recentCompleted.find((t) => t.taskId === taskId);
      expect(failed?.status).toBe("failed");
      expect(failed?.error).toMatch(
        /output not written.*leads outside the artifacts directory through a symbolic link/,
      );
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe("subscribers that never read cannot grow the hub's memory", () => {
  it("sends snapshots and resume patches within the per-client buffer limit, and closes (1008) a client that asks for more without reading", async () => {
    const maxBufferedBytes = 64 * 1024;
    hub = await startTestHub({ config: { hub: { maxBufferedBytes }, persistence: { fsync: false } } });
    const { epoch } = hub.taskContext.document;
    // A document of about 2 MB: ten tasks of ten 20,000-character prompts each.
    for (let n = 0; n < 10; n++) {
      const steps = Array.from({ length: 10 }, (_, i) => ({
        title: `step ${i}`,
        prompt: `${n}:${"p".repeat(19_990)}`,
      }));
      await hub.taskContext.addTask({
        taskId: `big_${n}`,
        description: "A large plan",
        startedFrom: "cli",
        plan: { steps },
      });
    }
    const documentBytes = Buffer.byteLength(JSON.stringify(hub.taskContext.getContext()));
    const stalled: Awaited<ReturnType<typeof openRawSocket>>[] = [];
    for (let i = 0; i < 20; i++) {
      const raw = await openRawSocket(hub.url);
      raw.socket.pause(); // never reads: what the hub sends stays in the kernel, then in the hub
      stalled.push(raw);
      // Each asks again and again: for a snapshot, and to resume from the first version (every patch).
      for (let k = 0; k < 15; k++) {
        raw.send({ type: "subscribe", topics: ["context"] });
        raw.send({ type: "subscribe", topics: ["context"], since: { context: { epoch, version: 0 } } });
      }
    }
    const server = () => [...(hub!.hub.app.websocketServer.clients as Set<WebSocket>)];
    await expect
      .poll(() => server().length === 20 && server().every((s) => s.readyState !== s.OPEN), {
        timeout: 20_000,
        message: "every client that never reads to be closed",
      })
      .toBeTruthy();
    // What the hub holds for each: at most the limit and the one frame that crossed it (a snapshot).
    for (const socket of server())
      expect(socket.bufferedAmount).toBeLessThanOrEqual(maxBufferedBytes + documentBytes + 1024);
    for (const raw of stalled) raw.socket.resume();
    const closes = await Promise.all(stalled.map((raw) => raw.closed));
    expect(closes.map((c) => c.code)).toEqual(Array(20).fill(1008));
    expect(closes[0]?.reason).toContain("too slow");
    // A client that reads is still served the whole document.
    const reader = await openRawSocket(hub.url);
    reader.send({ type: "subscribe", topics: ["context"] });
    const [snapshot] = await reader.waitForFrames(1, "a snapshot");
    expect(snapshot).toMatchObject({ type: "snapshot", version: hub.taskContext.document.version });
    reader.socket.terminate();
  });
});

describe("hard caps on what clients can make the hub hold", () => {
  const post = (path: string, body: unknown, method = "POST") =>
    rawRequest(`${hub!.url}${path}`, { method, headers: json, body: JSON.stringify(body) });
  const message = (reply: { body: unknown }) => (reply.body as { error: { message: string } }).error.message;
  const prompt = (chars: number) => ({ steps: [{ title: "long", prompt: "p".repeat(chars) }] });

  it("refuses a task past session.maxActiveTasks (409) and past session.maxTaskBytes (413), naming the limit and changing nothing", async () => {
    hub = await startTestHub({ config: { session: { maxActiveTasks: 3, maxTaskBytes: 8_192 } } });
    for (let n = 0; n < 3; n++) {
      expect((await post("/api/context/tasks", { description: `task ${n}`, startedFrom: "cli" })).status).toBe(201);
    }
    const version = hub.taskContext.document.version;
    const fourth = await post("/api/context/tasks", { description: "one too many", startedFrom: "cli" });
    expect(fourth.status).toBe(409);
    expect(message(fourth)).toContain("session.maxActiveTasks (3)");
    const routed = await post("/api/route", { description: "one too many", startedFrom: "cli" });
    expect(routed.status).toBeGreaterThanOrEqual(400);
    expect(hub.taskContext.document.version).toBe(version);

    const [first] = hub.taskContext.getContext().activeTasks;
    await hub.taskContext.completeTask(first!.taskId, {});
    const big = await post("/api/context/tasks", { description: "big", startedFrom: "cli", plan: prompt(9_000) });
    expect(big.status).toBe(413);
    expect(message(big)).toContain("session.maxTaskBytes (8192 bytes)");
    const afterFinish = hub.taskContext.document.version;
    const grown = await post(
      `/api/context/tasks/${hub.taskContext.getContext().activeTasks[0]!.taskId}`,
      { plan: prompt(9_000) },
      "PATCH",
    );
    expect(grown.status).toBe(413);
    expect(hub.taskContext.document.version).toBe(afterFinish);
    // Finishing is never refused, and frees room for the next task.
    expect((await post("/api/context/tasks", { description: "fits", startedFrom: "cli" })).status).toBe(201);
  });

  it("refuses a change past session.maxDocumentBytes (413) and keeps resume history within hub.historyLimitBytes", async () => {
    hub = await startTestHub({
      config: { session: { maxDocumentBytes: 60_000 }, hub: { historyLimitBytes: 30_000 } },
    });
    const epoch = hub.taskContext.document.epoch;
    let refused: Awaited<ReturnType<typeof post>> | null = null;
    for (let n = 0; n < 10 && !refused; n++) {
      const reply = await post("/api/context/tasks", {
        description: `task ${n}`,
        startedFrom: "cli",
        plan: prompt(9_000),
      });
      if (reply.status !== 201) refused = reply;
    }
    expect(refused?.status).toBe(413);
    expect(message(refused!)).toContain("session.maxDocumentBytes (60000 bytes)");
    expect(Buffer.byteLength(JSON.stringify(hub.taskContext.getContext()))).toBeLessThanOrEqual(60_000);
    // About 9 KB a change: three fit in the history's 30,000 bytes, the older ones are gone.
    expect(hub.taskContext.document.historySize).toBeLessThanOrEqual(30_000);
    expect(hub.taskContext.document.changesSince(epoch, 0)).toBeNull();
    const recent = hub.taskContext.document.version - 2;
    expect(hub.taskContext.document.changesSince(epoch, recent)).toHaveLength(2);
  });
});

describe("a replayed add cannot pass off a different task", () => {
  it("answers an identical replay of POST /api/context/tasks with the task, and the same id with other fields with 409, changing nothing", async () => {
    hub = await startTestHub();
    const task = { taskId: "route_r", description: "Pay the invoice", startedFrom: "cli", kind: "chat" };
    const post = (body: unknown) =>
      rawRequest(`${hub!.url}/api/context/tasks`, { method: "POST", headers: json, body: JSON.stringify(body) });
    expect((await post(task)).status).toBe(201);
    const version = hub.taskContext.document.version;
    for (const changed of [{ kind: "code" }, { outputPath: "artifacts/elsewhere.md" }, { status: "queued" }]) {
      const refused = await post({ ...task, ...changed });
      expect(refused.status).toBe(409);
      expect((refused.body as { error: { message: string } }).error.message).toContain(
        `${Object.keys(changed)[0]} differ`,
      );
    }
    expect(hub.taskContext.document.version).toBe(version);
    expect(hub.taskContext.getActiveTask("route_r")).toMatchObject({
      kind: "chat",
      outputPath: null,
      status: "running",
    });
    const replay = await post(task);
    expect(replay.status).toBe(200);
    expect(hub.taskContext.document.version).toBe(version);
  });
});

describe("an approval decides what the person saw, and nothing that came after it", () => {
  it("a step's button cannot decide a tool call of that step: naming the step but not the call is 409, and the call still waits", async () => {
    hub = await startTestHub({ token: TOKEN });
    const task = await hub.taskContext.addTask({ description: "Clean up", startedFrom: "cli", totalSteps: 2 });
    // Step 2 was approved, ran, and now Claude asks about a command the person has not seen yet.
    await hub.taskContext.updateTask(task.taskId, {
      status: "pending-approval",
      currentStep: 2,
      awaitingApproval: {
        kind: "tool",
        id: "tool_0a1b2c3d4e5f",
        step: 2,
        title: "Bash: rm -rf build",
        detail: "rm -rf build",
        tool: "Bash",
        summary: "Bash: rm -rf build",
      },
    });
    const version = hub.taskContext.document.version;
    const act = (action: "approve" | "reject", body: Record<string, unknown>) =>
      rawRequest(`${hub?.url}/api/context/tasks/${task.taskId}/${action}`, {
        method: "POST",
        headers: { ...json, authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ channel: "telegram", ...body }),
      });
    // The step's own buttons (a message not yet edited, a late press) name step 2 and no call.
    for (const action of ["approve", "reject"] as const) {
      const stale = await act(action, { step: 2 });
      expect(stale.status).toBe(409);
      expect(JSON.stringify(stale.body)).toContain("tool call tool_0a1b2c3d4e5f");
    }
    expect(hub.taskContext.document.version).toBe(version);
    expect(hub.taskContext.getActiveTask(task.taskId)?.status).toBe("pending-approval");
    // Naming the call decides it.
    expect((await act("approve", { step: 2, approvalId: "tool_0a1b2c3d4e5f" })).status).toBe(200);
    expect(hub.taskContext.getActiveTask(task.taskId)?.approval).toMatchObject({ id: "tool_0a1b2c3d4e5f" });
  });
});

describe("the voice status server follows the hub's access policy", () => {
  async function voice(options: { token?: string | null; allowedHosts?: string[] } = {}) {
    return startStatusServer({
      host: "127.0.0.1",
      port: 0,
      token: options.token ?? null,
      ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
      answer: () => "Your secret merger task is 60% done.",
    });
  }

  it("refuses a foreign Host (DNS rebinding) and a foreign Origin with 403, never reading the task out", async () => {
    const server = await voice();
    try {
      const port = new URL(server.url).port;
      const rebound = await rawRequest(`${server.url}/status`, { headers: { host: `attacker.example:${port}` } });
      expect(rebound.status).toBe(403);
      expect(JSON.stringify(rebound.body)).not.toContain("merger");
      const crossSite = await rawRequest(`${server.url}/status`, { headers: { origin: "https://evil.example" } });
      expect(crossSite.status).toBe(403);
      const own = await rawRequest(`${server.url}/status`, { headers: { host: `localhost:${port}` } });
      expect(own).toEqual({ status: 200, body: { text: "Your secret merger task is 60% done." } });
    } finally {
      await server.close();
    }
  });

  it("stops with one line (VoiceStartError) when the host it is given does not resolve, as the hub does", async () => {
    const attempt = startStatusServer({ host: "no-such-host.invalid", port: 0, token: TOKEN, answer: () => "" });
    await expect(attempt).rejects.toBeInstanceOf(VoiceStartError);
    await expect(attempt).rejects.toThrow(
      /^cannot resolve the host "no-such-host\.invalid" to serve the voice status on/,
    );
  });

  it("accepts a configured Host, and asks for the token when one is set (401)", async () => {
    const server = await voice({ token: TOKEN, allowedHosts: ["speaker.lan"] });
    try {
      const lan = { host: "speaker.lan" };
      expect((await rawRequest(`${server.url}/status`, { headers: lan })).status).toBe(401);
      const bearer = { ...lan, authorization: `Bearer ${TOKEN}` };
      expect((await rawRequest(`${server.url}/status`, { headers: bearer })).status).toBe(200);
      expect((await rawRequest(`${server.url}/status?token=${TOKEN}x`, { headers: lan })).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe("a Slack request acts once, and only for the team, channels and people configured", () => {
  const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
  const ACCESS: SlackAccess = { channels: ["C0DEV"], teamId: "T1", userIds: ["U1"] };
  let threadReplies: SlackThreadReply[];

  async function slackHub(access: SlackAccess = ACCESS, responseOrigins?: string[]) {
    threadReplies = [];
    hub = await startTestHub({
      token: TOKEN,
      plugins: [
        slackEndpoint({
          signingSecret: SECRET,
          access,
          views: slackViews,
          hubToken: TOKEN,
          logger: createLogger("silent"),
          onThreadReply: (reply) => threadReplies.push(reply),
          ...(responseOrigins ? { responseOrigins } : {}),
        }),
      ],
    });
    const task = await hub.taskContext.addTask({ description: "Deploy the site", startedFrom: "cli", totalSteps: 2 });
    await hub.taskContext.updateTask(task.taskId, {
      status: "pending-approval",
      currentStep: 2,
      awaitingApproval: { step: 2, title: "Push to production", detail: "git push origin main" },
    });
    return { hub, taskId: task.taskId };
  }

  let sequence = 0;
  /** Signed as Slack signs; each call is a new request (Slack's bodies carry a fresh trigger_id). */
  function send(path: string, body: string, contentType = "application/x-www-form-urlencoded") {
    return { url: `${hub?.url}${path}`, init: signedSlackRequest(body, { secret: SECRET, contentType }) };
  }
  const post = async (request: ReturnType<typeof send>) => {
    const response = await fetch(request.url, request.init);
    return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> };
  };

  type Who = { team?: string; channel?: string; user?: string };
  const command = (text: string, who: Who = {}) =>
    send(
      SLACK_COMMANDS_PATH,
      new URLSearchParams({
        command: "/switchboard",
        text,
        team_id: who.team ?? "T1",
        channel_id: who.channel ?? "C0DEV",
        user_id: who.user ?? "U1",
        trigger_id: `trigger-${++sequence}`,
      }).toString(),
    );
  const press = (taskId: string, who: Who = {}, responseUrl?: string, value = JSON.stringify({ taskId, step: 2 })) =>
    send(
      SLACK_INTERACTIONS_PATH,
      new URLSearchParams({
        payload: JSON.stringify({
          type: "block_actions",
          ...(responseUrl ? { response_url: responseUrl } : {}),
          team: { id: who.team ?? "T1" },
          user: { id: who.user ?? "U1" },
          channel: { id: who.channel ?? "C0DEV", name: "dev" },
          trigger_id: `trigger-${++sequence}`,
          actions: [
            {
              action_id: "approve",
              block_id: "switchboard_approval",
              value,
              type: "button",
            },
          ],
        }),
      }).toString(),
    );
  const threadReply = (who: Who = {}) =>
    send(
      SLACK_EVENTS_PATH,
      JSON.stringify({
        type: "event_callback",
        team_id: who.team ?? "T1",
        event_id: `Ev${++sequence}`,
        event: {
          type: "message",
          channel: who.channel ?? "C0DEV",
          user: who.user ?? "U1",
          text: "and the staging site too",
          ts: `1800000000.00000${sequence}`,
          thread_ts: "1700000000.000001",
        },
      }),
      "application/json",
    );

  it("refuses a signed request sent a second time (the same signature) with 401, and changes nothing", async () => {
    const { hub } = await slackHub();
    const request = command("status");
    expect((await post(request)).status).toBe(200);
    const before = hub.taskContext.document.version;
    const replayed = await post(request);
    expect(replayed.status).toBe(401);
    expect(JSON.stringify(replayed.body)).toContain("already received");
    expect(hub.taskContext.document.version).toBe(before);
    // The same press replayed is refused as well, before it reaches the task.
    const pressed = press("route_none");
    await post(pressed);
    expect((await post(pressed)).status).toBe(401);
  });

  it.each<[string, Who]>([
    ["a channel not in slack.channels", { channel: "C0OTHER" }],
    ["another team than slack.teamId", { team: "T2" }],
    ["a person not in slack.userIds", { user: "U9" }],
  ])("refuses a button press from %s with 403, and the task still waits", async (_, who) => {
    const { hub, taskId } = await slackHub();
    const before = hub.taskContext.document.version;
    const refused = await post(press(taskId, who));
    expect(refused.status).toBe(403);
    expect((refused.body.error as { code: string }).code).toBe("forbidden");
    expect(hub.taskContext.document.version).toBe(before);
    expect(hub.taskContext.getActiveTask(taskId)?.status).toBe("pending-approval");
    // The same press from the configured channel, team and person decides.
    expect((await post(press(taskId))).status).toBe(200);
    expect(hub.taskContext.getActiveTask(taskId)?.approval).toMatchObject({ decision: "approved", channel: "slack" });
  });

  it("`/switchboard status` answers only in a configured channel or to a configured person", async () => {
    const { hub } = await slackHub();
    const before = hub.taskContext.document.version;
    const stranger = await post(command("status", { channel: "C0OTHER", user: "U9" }));
    expect(stranger.status).toBe(200);
    expect(String(stranger.body.text)).toMatch(
      /^Switchboard does not act on this: channel C0OTHER is not in slack.channels/,
    );
    expect(JSON.stringify(stranger.body)).not.toContain("Deploy the site");
    expect(hub.taskContext.document.version).toBe(before);
    const otherTeam = await post(command("status", { team: "T2" }));
    expect(JSON.stringify(otherTeam.body)).not.toContain("Deploy the site");

    const listedElsewhere = await post(command("status", { channel: "C0OTHER", user: "U1" }));
    expect(JSON.stringify(listedElsewhere.body)).toContain("Deploy the site");
    const anyoneInChannel = await post(command("status", { channel: "C0DEV", user: "U9" }));
    expect(JSON.stringify(anyoneInChannel.body)).toContain("Deploy the site");
    // Starting work is acting: a person not listed cannot, even in the channel.
    const start = await post(command("new summarise the logs", { user: "U9" }));
    expect(String(start.body.text)).toMatch(/U9 is not in slack.userIds/);
    expect(hub.taskContext.getContext().activeTasks).toHaveLength(1);
  });

  it("answers a refused press only at Slack's origin, never at a response_url pointing elsewhere", async () => {
    const slack = await startFakeSlack();
    const elsewhere: string[] = [];
    const other = createServer((request, response) => {
      elsewhere.push(request.url ?? "");
      response.end("{}");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const { taskId } = await slackHub(ACCESS, [slack.origin]);
      const { port } = other.address() as AddressInfo;
      // A press the hub refuses (step 1 does not wait), each asking to be answered somewhere.
      const stale = JSON.stringify({ taskId, step: 1 });
      await post(press(taskId, {}, `http://127.0.0.1:${port}/actions/T1/1/x`, stale));
      await post(press(taskId, {}, slack.responseUrl(), stale));
      await expect
        .poll(() => slack.calls.some((c) => c.method === "response_url"), {
          timeout: 5000,
          message: "the answer at Slack's origin",
        })
        .toBeTruthy();
      expect(elsewhere).toEqual([]);
      expect(String(slack.calls.find((c) => c.method === "response_url")?.params.text)).toMatch(
        /^Nothing was approved/,
      );
    } finally {
      await slack.close();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("a thread reply from another channel, team or person is acknowledged (200) and goes nowhere", async () => {
    await slackHub();
    for (const who of [{ channel: "C0OTHER" }, { team: "T2" }, { user: "U9" }]) {
      expect((await post(threadReply(who))).status).toBe(200);
    }
    expect(threadReplies).toEqual([]);
    expect((await post(threadReply())).status).toBe(200);
    expect(threadReplies.map((r) => [r.channel, r.user])).toEqual([["C0DEV", "U1"]]);
  });
});

describe("a Telegram button acts on the task of the message it sits on", () => {
  it("a forged callback naming another task, or pressed under a message that is no task's, decides nothing", async () => {
    hub = await startTestHub({ token: TOKEN });
    const telegram = await startFakeTelegram();
    const CHAT = 1001;
    const adapter = createTelegramAdapter({
      hub: hubClient(hub, { token: TOKEN, channel: "telegram" }),
      token: telegram.token,
      chatIds: [CHAT],
      apiRoot: telegram.apiRoot,
      minEditIntervalMs: 0,
      pollTimeoutSeconds: 1,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    try {
      await adapter.start();
      const waiting = async (description: string) => {
        const task = await hub!.taskContext.addTask({ description, startedFrom: "cli", totalSteps: 2 });
        await hub!.taskContext.updateTask(task.taskId, {
          status: "pending-approval",
          currentStep: 2,
          awaitingApproval: { step: 2, title: "Push", detail: `push ${description}` },
        });
        return task.taskId;
      };
      const harmless = await waiting("Tidy the docs");
      const dangerous = await waiting("Wipe the production database");
      await expect
        .poll(() => adapter.messages.refOf(harmless, String(CHAT)) !== null, {
          timeout: 5000,
          message: "the harmless task's message",
        })
        .toBeTruthy();
      await expect
        .poll(() => [...telegram.messages.values()].filter((m) => m.text.includes("push ")).length === 2, {
          timeout: 5000,
          message: "both approval messages",
        })
        .toBeTruthy();
      const harmlessMessage = adapter.messages.refOf(harmless, String(CHAT)) as number;
      const press = async (messageId: number, data: string) => {
        const id = telegram.press(CHAT, messageId, data);
        await expect
          .poll(() => telegram.handled(id), { timeout: 5000, message: "the press to be handled" })
          .toBeTruthy();
        return telegram
          .chatCalls()
          .filter((c) => c.method === "answerCallbackQuery")
          .at(-1)?.params.text;
      };
      const before = hub.taskContext.document.version;

      // Under the harmless task's message, data naming the other task (the old format) is not read as a task.
      expect(await press(harmlessMessage, `approve:${dangerous}`)).toMatch(/out of date; nothing was done/);
      // A message that is no task's (an id the bot never sent, or another chat's) has no task to act on.
      expect(await press(999_999, "approve:2")).toMatch(/out of date; nothing was done/);
      expect(hub.taskContext.document.version).toBe(before);

      // The button of the harmless message decides the harmless task, and only it.
      expect(await press(harmlessMessage, "approve:2")).toBe("Approved");
      expect(hub.taskContext.getActiveTask(harmless)?.status).toBe("running");
      expect(hub.taskContext.getActiveTask(dangerous)?.status).toBe("pending-approval");
    } finally {
      await adapter.stop();
      await telegram.close();
    }
  });
});
