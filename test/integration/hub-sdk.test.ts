// The client SDK against a real hub: it survives a hub restart by itself, repairs a version gap
// by resubscribing with `since`, and turns changes into typed events.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ConnectionState, HubClient, SocketLike } from "../../client/hub-client.ts";
import { iso } from "../../shared/clock.ts";
import type { BackendHealth, PatchFrame } from "../../shared/schemas.ts";
import { hubClient, makeDataDir, startTestHub, type TestHub } from "../helpers/hub.ts";

let hubs: TestHub[] = [];
let clients: HubClient[] = [];

afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  for (const hub of hubs) await hub.stop();
  hubs = [];
});

async function hubIn(dataDir: string, port = 0): Promise<TestHub> {
  const hub = await startTestHub({ dataDir, config: { port } });
  hubs.push(hub);
  return hub;
}

describe("HubClient", () => {
  it("survives a hub restart: reconnects by itself and resynchronizes to the new epoch", async () => {
    const dataDir = await makeDataDir();
    const first = await hubIn(dataDir);
    const client = hubClient(first);
    clients.push(client);
    const states: ConnectionState[] = [];
    client.on("connection", ({ state }) => states.push(state));
    await client.connect();
    const task = await client.addTask({ description: "Analyze trust documents", startedFrom: "voice" });
    await expect
      .poll(() => client.context?.activeTasks.length === 1, { timeout: 5000, message: "the task in the mirror" })
      .toBeTruthy();
    const oldEpoch = client.position("context")?.epoch;

    await first.close();
    hubs = [];
    await expect
      .poll(() => client.state === "reconnecting", { timeout: 5000, message: "the client to notice" })
      .toBeTruthy();
    const second = await hubIn(dataDir, first.port);
    await expect
      .poll(() => client.position("context")?.epoch === second.taskContext.document.epoch, {
        timeout: 5000,
        message: "the new epoch",
      })
      .toBeTruthy();
    expect(client.position("context")?.epoch).not.toBe(oldEpoch);
    expect(client.context).toEqual(second.taskContext.getContext());
    expect(client.context?.activeTasks.map((t) => t.taskId)).toEqual([task.taskId]);

    // And it follows live changes of the new lifetime.
    await client.updateTask(task.taskId, { lastUpdate: "after the restart" });
    await expect
      .poll(() => client.context?.activeTasks[0]?.lastUpdate === "after the restart", {
        timeout: 5000,
        message: "a live patch",
      })
      .toBeTruthy();
    expect(states).toEqual(["connecting", "live", "reconnecting", "live"]);
  });

  it("detects a version gap and resubscribes with since, receiving only what it missed", async () => {
    const hub = await hubIn(await makeDataDir());
    const sent: unknown[] = [];
    let dropped: PatchFrame | null = null;
    // A socket that loses the patch for version 2, as a buggy proxy might.
    const lossySocket = (url: string, headers: Record<string, string>): SocketLike => {
      const socket = new WebSocket(url, { headers });
      const lossy: SocketLike = {
        get readyState() {
          return socket.readyState;
        },
        send(data: string) {
          sent.push(JSON.parse(data));
          socket.send(data);
        },
        close: (code, reason) => socket.close(code, reason),
        onopen: null,
        onclose: null,
        onerror: null,
        onmessage: null,
      };
      socket.on("open", () => lossy.onopen?.({}));
      socket.on("close", (code, reason) => lossy.onclose?.({ code, reason: String(reason) }));
      socket.on("error", (error) => lossy.onerror?.(error));
      socket.on("message", (data) => {
        const frame = JSON.parse(String(data));
        if (frame.type === "patch" && frame.version === 2 && !dropped) {
          dropped = frame;
          return;
        }
        lossy.onmessage?.({ data });
      });
      return lossy;
    };
    const client = hubClient(hub, { socket: lossySocket, topics: ["context"] });
    clients.push(client);
    await client.connect();
    const epoch = hub.taskContext.document.epoch;

    const task = await hub.taskContext.addTask({ description: "Tidy the notes", startedFrom: "cli" });
    await hub.taskContext.updateTask(task.taskId, { lastUpdate: "lost on the way" });
    await hub.taskContext.updateTask(task.taskId, { lastUpdate: "arrives after the gap" });

    await expect
      .poll(() => client.position("context")?.version === 3, { timeout: 5000, message: "version 3" })
      .toBeTruthy();
    expect(dropped).not.toBeNull();
    expect(client.context).toEqual(hub.taskContext.getContext());
    expect(sent).toEqual([
      { type: "subscribe", topics: ["context"] },
      { type: "subscribe", topics: ["context"], since: { context: { epoch, version: 1 } } },
    ]);
  });

  it("emits typed events: task progress, task completion, backend health and document changes", async () => {
    const hub = await hubIn(await makeDataDir());
    const client = hubClient(hub);
    clients.push(client);
    const progress: string[] = [];
    const completed: string[] = [];
    const health: string[] = [];
    const changes: string[] = [];
    client.on("task-progress", ({ task, previous }) =>
      progress.push(`${task.taskId}:${previous ? task.lastUpdate : "new"}`),
    );
    client.on("task-completed", ({ task }) => completed.push(`${task.taskId}:${task.status}`));
    client.on("health-changed", ({ backend, entry, previous }) =>
      health.push(`${backend}:${previous?.status ?? "none"}->${entry.status}`),
    );
    client.on("change", ({ topic, version, snapshot }) =>
      changes.push(`${topic}@${version}${snapshot ? " snapshot" : ""}`),
    );
    const healthAtStart = hub.health.version;
    await client.connect();

    await client.addTask({ taskId: "route_t1", description: "Check the lease", startedFrom: "telegram" });
    await client.updateTask("route_t1", { lastUpdate: "reading clause 4" });
    await client.completeTask("route_t1", { error: "the scan is unreadable" });
    const entry: BackendHealth = {
      kind: "ollama",
      status: "warm",
      reason: null,
      version: "0.5.0",
      authMethod: null,
      latencyMs: 12,
      lastPing: iso(Date.now()),
      lastSuccess: iso(Date.now()),
      consecutiveFailures: 0,
      nextPingAt: null,
      loadedModels: ["llama3.2"],
      latencyHistory: [],
      prewarmed: [],
    };
    await hub.health.mutate((h) => ({ ...h, backends: { ...h.backends, ollama: entry } }));
    await hub.health.mutate((h) => ({
      ...h,
      backends: { ollama: { ...entry, status: "dead", reason: "unreachable" } },
    }));

    await expect
      .poll(() => health.length === 2 && completed.length === 1, { timeout: 5000, message: "all events" })
      .toBeTruthy();
    expect(progress).toEqual(["route_t1:new", "route_t1:reading clause 4"]);
    expect(completed).toEqual(["route_t1:failed"]);
    expect(health).toEqual(["ollama:none->warm", "ollama:warm->dead"]);
    // The warm standby stamps the health document once at start, so its snapshot may not be version 0.
    expect(changes.filter((c) => c.endsWith("snapshot")).sort()).toEqual([
      "context@0 snapshot",
      `health@${healthAtStart} snapshot`,
    ]);
    expect(changes.filter((c) => !c.endsWith("snapshot"))).toEqual([
      "context@1",
      "context@2",
      "context@3",
      `health@${healthAtStart + 1}`,
      `health@${healthAtStart + 2}`,
    ]);
  });

  it("resumes after a dropped connection with only the missed patches, never a new snapshot", async () => {
    const hub = await hubIn(await makeDataDir());
    const client = hubClient(hub, { topics: ["context"] });
    clients.push(client);
    const changes: string[] = [];
    client.on("change", ({ version, snapshot }) => changes.push(snapshot ? `snapshot@${version}` : `patch@${version}`));
    await client.connect();
    const task = await hub.taskContext.addTask({ description: "Compare the quotes", startedFrom: "slack" });
    await expect
      .poll(() => client.position("context")?.version === 1, { timeout: 5000, message: "the first patch" })
      .toBeTruthy();

    // The hub drops the connection; changes happen before the client is back.
    for (const socket of hub.hub.app.websocketServer.clients) socket.terminate();
    await expect
      .poll(() => client.state === "reconnecting", { timeout: 5000, message: "the client to notice" })
      .toBeTruthy();
    await hub.taskContext.updateTask(task.taskId, { lastUpdate: "quote 1 of 3" });
    await hub.taskContext.updateTask(task.taskId, { lastUpdate: "quote 2 of 3" });
    await expect
      .poll(() => client.state === "live" && client.position("context")?.version === 3, {
        timeout: 5000,
        message: "the resume",
      })
      .toBeTruthy();

    expect(changes).toEqual(["snapshot@0", "patch@1", "patch@2", "patch@3"]);
    expect(client.context).toEqual(hub.taskContext.getContext());
  });

  it("tells its listeners why a connection attempt failed, and keeps retrying", async () => {
    const hub = await startTestHub({ token: "the-right-one" });
    hubs.push(hub);
    const client = hubClient(hub, { token: "a-wrong-one" });
    clients.push(client);
    const errors: string[] = [];
    client.on("hub-error", ({ code, message }) => errors.push(`${code}: ${message}`));
    void client.connect();
    await expect.poll(() => errors.length >= 2, { timeout: 5000, message: "two failed attempts" }).toBeTruthy();
    expect(errors[0]).toBe("connection_failed: Unexpected server response: 401");
    expect(client.state).toBe("reconnecting");
  });

  it("reports a refused REST call as a HubError with the contract's status and code", async () => {
    const hub = await hubIn(await makeDataDir());
    const client = hubClient(hub);
    clients.push(client);
    await expect(client.updateTask("route_nope", { lastUpdate: "x" })).rejects.toMatchObject({
      name: "HubError",
      status: 404,
      code: "not_found",
    });
  });
});
