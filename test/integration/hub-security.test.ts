// Who may talk to the hub: foreign Origin and Host are refused on REST and on the WebSocket
// upgrade (cross-site hijacking, DNS rebinding), the token guards everything when set, and a
// non-loopback bind without a token is refused at start.
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../server/log.ts";
import { StartupError, startHub } from "../../server/start.ts";
import { startTestHub, type TestHub, testConfig } from "../helpers/hub.ts";
import { json, openRawSocket, type RawSocket, rawRequest, UpgradeRefused } from "../helpers/raw-socket.ts";

let hub: TestHub;
let sockets: RawSocket[] = [];

afterEach(async () => {
  for (const raw of sockets) raw.socket.terminate();
  sockets = [];
  await hub?.stop();
});

const newTask = JSON.stringify({ description: "Sort the inbox", startedFrom: "dashboard" });

async function upgradeStatus(headers: Record<string, string>, query = ""): Promise<number> {
  try {
    const raw = await openRawSocket(hub.url, { headers, query });
    sockets.push(raw);
    return 101;
  } catch (error) {
    if (error instanceof UpgradeRefused) return error.status;
    throw error;
  }
}

async function expectRefused(res: { status: number; body: unknown }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(hub.taskContext.getContext().activeTasks).toEqual([]);
}

describe("Origin (cross-site WebSocket hijacking)", () => {
  it("refuses a foreign Origin on a mutating request and on the upgrade with 403", async () => {
    hub = await startTestHub();
    const origin = { origin: "https://evil.example" };
    const res = await rawRequest(`${hub.url}/api/context/tasks`, {
      method: "POST",
      headers: { ...json, ...origin },
      body: newTask,
    });
    await expectRefused(res, 403, "forbidden");
    expect((res.body as { error: { message: string } }).error.message).toContain("security.allowedOrigins");
    expect(await upgradeStatus(origin)).toBe(403);
    expect(await upgradeStatus({ origin: "null" })).toBe(403);
  });

  it("accepts the hub's own origin, a configured origin, and clients that send no Origin", async () => {
    hub = await startTestHub({ config: { security: { allowedOrigins: ["http://localhost:5173"] } } });
    const own = { origin: hub.url };
    expect(await upgradeStatus(own)).toBe(101);
    expect(await upgradeStatus({ origin: "http://localhost:5173" })).toBe(101);
    expect(await upgradeStatus({})).toBe(101);
    const created = await rawRequest(`${hub.url}/api/context/tasks`, {
      method: "POST",
      headers: { ...json, ...own },
      body: newTask,
    });
    expect(created.status).toBe(201);
    const plain = await rawRequest(`${hub.url}/api/context/tasks`, { method: "POST", headers: json, body: newTask });
    expect(plain.status).toBe(201);
  });
});

describe("Host (DNS rebinding)", () => {
  it("refuses a foreign Host on REST reads, mutations and the upgrade with 403", async () => {
    hub = await startTestHub();
    const host = { host: `attacker.example:${hub.port}` };
    await expectRefused(await rawRequest(`${hub.url}/api/context`, { headers: host }), 403, "forbidden");
    await expectRefused(
      await rawRequest(`${hub.url}/api/context/tasks`, {
        method: "POST",
        headers: { ...json, ...host },
        body: newTask,
      }),
      403,
      "forbidden",
    );
    expect(await upgradeStatus(host)).toBe(403);
  });

  it("accepts loopback names and configured hosts", async () => {
    hub = await startTestHub({ config: { security: { allowedHosts: ["switchboard.lan"] } } });
    for (const host of [`localhost:${hub.port}`, `127.0.0.1:${hub.port}`, `[::1]:${hub.port}`, "switchboard.lan:80"]) {
      expect((await rawRequest(`${hub.url}/api/context`, { headers: { host } })).status).toBe(200);
    }
    expect(await upgradeStatus({ host: "switchboard.lan" })).toBe(101);
  });
});

describe("token", () => {
  const token = "correct-horse-battery-staple";

  it("refuses REST calls, /healthz and the upgrade without the token or with a wrong one (401)", async () => {
    hub = await startTestHub({ token });
    await expectRefused(await rawRequest(`${hub.url}/api/context`), 401, "unauthorized");
    await expectRefused(await rawRequest(`${hub.url}/healthz`), 401, "unauthorized");
    const wrong = { authorization: "Bearer not-the-token" };
    await expectRefused(
      await rawRequest(`${hub.url}/api/context/tasks`, {
        method: "POST",
        headers: { ...json, ...wrong },
        body: newTask,
      }),
      401,
      "unauthorized",
    );
    expect(await upgradeStatus({})).toBe(401);
    expect(await upgradeStatus(wrong)).toBe(401);
    expect(await upgradeStatus({}, "?token=nope")).toBe(401);
  });

  it("accepts the token as a Bearer header, and as a query parameter on the upgrade (browsers)", async () => {
    hub = await startTestHub({ token });
    const bearer = { authorization: `Bearer ${token}` };
    expect((await rawRequest(`${hub.url}/api/context`, { headers: bearer })).status).toBe(200);
    expect((await rawRequest(`${hub.url}/healthz`, { headers: bearer })).status).toBe(200);
    const lowercase = { authorization: `bearer ${token}` };
    expect((await rawRequest(`${hub.url}/api/context`, { headers: lowercase })).status).toBe(200);
    expect(await upgradeStatus(bearer)).toBe(101);
    expect(await upgradeStatus({}, `?token=${token}`)).toBe(101);
  });

  it("still refuses a foreign Origin that carries the right token", async () => {
    hub = await startTestHub({ token });
    expect(await upgradeStatus({ authorization: `Bearer ${token}`, origin: "https://evil.example" })).toBe(403);
  });
});

describe("binding", () => {
  it("refuses to start on a non-loopback host without a token, saying what to do", async () => {
    const attempt = startHub({
      config: testConfig({ host: "0.0.0.0" }),
      secrets: { token: null },
      logger: silentLogger,
    });
    await expect(attempt).rejects.toBeInstanceOf(StartupError);
    await expect(attempt).rejects.toThrow(/SWITCHBOARD_TOKEN/);
  });

  it("binds to 127.0.0.1 by default", async () => {
    hub = await startTestHub();
    expect(hub.config.host).toBe("127.0.0.1");
    expect(hub.hub.app.server.address()).toMatchObject({ address: "127.0.0.1" });
  });
});
