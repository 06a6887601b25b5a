// Attacks, as an attacker would try them against a hub started with a token: spellings of a path
// that reach a guarded route, the token where it does not belong, secrets in the log, bind names
// that only look loopback. Each class stays fixed here.
import { realpath } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startStatusServer } from "../../client/voice/status-server.ts";
import { createLogger } from "../../server/log.ts";
import { slackEndpoint } from "../../server/slack-endpoint.ts";
import { StartupError, startHub } from "../../server/start.ts";
import { eventually, fakeCliCalls } from "../fixtures/fake-cli-env.ts";
import { makeDataDir, startTestHub, type TestHub, testConfig } from "../helpers/hub.ts";
import { json, openRawSocket, rawRequest, UpgradeRefused } from "../helpers/raw-socket.ts";
import { cleanupRouterHubs, routerHub } from "../helpers/router-hub.ts";

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
          views: { status: noView, task: noView, started: noView, notTaken: noView, textProblem: () => null },
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
  it("refuses a name that only looks loopback (*.localhost) without a token", async () => {
    const attempt = startHub({
      config: testConfig({ host: "switchboard.localhost" }),
      secrets: { token: null },
      logger: createLogger("silent"),
    });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
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
    await eventually(() => routed.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), 15_000);
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

describe("backends never run in the hub's own directory", () => {
  it("runs health pings (--version, auth status) and pre-warmed sessions in the data directory's workspace folder", async () => {
    const { hub: routed, log } = await routerHub({
      backends: { claude: { kind: "claude" }, codex: { kind: "codex" } },
    });
    await routed.warmStandby.pingNow("codex");
    routed.warmStandby.preWarm("claude");
    // The pre-warmed process logs its start once it runs.
    await eventually(async () => (await fakeCliCalls(log)).some((c) => c.argv.includes("--input-format")));
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
