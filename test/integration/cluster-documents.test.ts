// Several hubs on one real Redis share their documents: a change on one reaches the subscribers
// of all, concurrent writers leave one contiguous history, a client resumes on any hub, and a
// Redis that restarts or pauses costs clients a snapshot at most, never a wrong or lost patch.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { applyPatch } from "fast-json-patch";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startNotifier } from "../../client/notify/notifier.ts";
import { parseConfig } from "../../server/config.ts";
import { makeDataDir, startTestHub, type TestHub } from "../helpers/hub.ts";
import { openRawSocket, type RawSocket } from "../helpers/raw-socket.ts";
import { type RedisServer, redisAvailable, startRedis } from "../helpers/redis-server.ts";

let redis: RedisServer;
const hubs: TestHub[] = [];
const sockets: RawSocket[] = [];

beforeEach(async () => {
  if (redisAvailable || process.env.CI) redis = await startRedis();
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.socket.terminate();
  await Promise.all(hubs.splice(0).map((hub) => hub.stop()));
  await redis?.stop();
});

async function clusterHub(dataDir?: string): Promise<TestHub> {
  const hub = await startTestHub({
    config: { store: { kind: "redis", url: redis.url, keyPrefix: "test" } },
    ...(dataDir ? { dataDir } : {}),
  });
  hubs.push(hub);
  return hub;
}

async function subscribe(hub: TestHub, since?: { epoch: string; version: number }): Promise<RawSocket> {
  const socket = await openRawSocket(hub.url);
  sockets.push(socket);
  socket.send({ type: "subscribe", topics: ["context"], ...(since ? { since: { context: since } } : {}) });
  return socket;
}

async function addTask(hub: TestHub, taskId: string): Promise<Response> {
  return fetch(`${hub.url}/api/context/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ taskId, description: `task ${taskId}`, startedFrom: "cli" }),
  });
}

/** The document a client holds after applying, in order, every frame it received. */
function mirror(socket: RawSocket): { epoch: string; version: number; data: unknown } {
  let held: { epoch: string; version: number; data: unknown } = { epoch: "", version: -1, data: null };
  for (const frame of socket.frames) {
    if (frame.type === "snapshot") held = { epoch: frame.epoch, version: frame.version, data: frame.data };
    if (frame.type === "patch") {
      expect(frame.epoch).toBe(held.epoch);
      expect(frame.version).toBe(held.version + 1);
      held = {
        epoch: frame.epoch,
        version: frame.version,
        data: applyPatch(structuredClone(held.data), frame.ops as never).newDocument,
      };
    }
  }
  return held;
}

// Without redis-server (apt-get install redis-server; .ci/run installs it) these cannot run: they
// skip on a developer machine, and CI, which always installs it, never skips them.
describe.skipIf(!redisAvailable && !process.env.CI)("hubs sharing one Redis", () => {
  it("a change made on one hub reaches the subscribers of every hub", async () => {
    const [a, b, c] = [await clusterHub(), await clusterHub(), await clusterHub()];
    const watchers = [await subscribe(a), await subscribe(b), await subscribe(c)];
    for (const watcher of watchers) await watcher.waitForFrames(1, "the snapshot");

    expect((await addTask(b, "shared")).status).toBe(201);

    for (const watcher of watchers) {
      await expect
        .poll(() => watcher.frames.some((f) => f.type === "patch"), { timeout: 5000, message: "the patch" })
        .toBeTruthy();
      const held = mirror(watcher).data as { activeTasks: { taskId: string }[] };
      expect(held.activeTasks.map((t) => t.taskId)).toEqual(["shared"]);
    }
    const fromA = await (await fetch(`${a.url}/api/context/tasks/shared`)).json();
    expect(fromA.taskId).toBe("shared");
  });

  it("changes made one after another in the hub's own process, each awaited, are all committed", async () => {
    const hub = await clusterHub();
    // Each awaits the last: the next change is queued just as the commit before it finishes.
    for (let i = 0; i < 5; i++) {
      await hub.taskContext.addTask({ taskId: `seq-${i}`, description: `task ${i}`, startedFrom: "cli" });
    }
    await hub.taskContext.updateTask("seq-0", { lastUpdate: "after the others" });
    const context = (await (await fetch(`${hub.url}/api/context`)).json()) as { activeTasks: { taskId: string }[] };
    expect(context.activeTasks.map((task) => task.taskId)).toEqual(["seq-0", "seq-1", "seq-2", "seq-3", "seq-4"]);
  });

  it("concurrent writers on every hub leave contiguous versions and identical documents", async () => {
    const all = [await clusterHub(), await clusterHub(), await clusterHub()];
    const watchers = await Promise.all(all.map((hub) => subscribe(hub)));
    for (const watcher of watchers) await watcher.waitForFrames(1, "the snapshot");

    const writes = all.flatMap((hub, h) =>
      Array.from({ length: 20 }, (_, i) => addTask(hub, `h${h}-${i}`).then((r) => r.status)),
    );
    expect(new Set(await Promise.all(writes))).toEqual(new Set([201]));

    const expected = all.flatMap((_, h) => Array.from({ length: 20 }, (_, i) => `h${h}-${i}`)).sort();
    for (const watcher of watchers) {
      await expect
        .poll(() => ((mirror(watcher).data as { activeTasks: unknown[] }).activeTasks ?? []).length === 60, {
          timeout: 10_000,
          message: "every task on every hub",
        })
        .toBeTruthy();
    }
    const held = watchers.map(mirror);
    // Patches only after the first snapshot: no hub fell behind or started over.
    for (const watcher of watchers) expect(watcher.frames.filter((f) => f.type === "snapshot")).toHaveLength(1);
    for (const one of held) {
      expect(one.version).toBe(held[0]?.version);
      expect(one.epoch).toBe(held[0]?.epoch);
      expect((one.data as { activeTasks: { taskId: string }[] }).activeTasks.map((t) => t.taskId).sort()).toEqual(
        expected,
      );
    }
    const documents = await Promise.all(all.map(async (hub) => (await fetch(`${hub.url}/api/context`)).json()));
    for (const document of documents) expect(document).toEqual(documents[0]);
    expect(documents[0]).toEqual(held[0]?.data);
  });

  it("a client resumes on another hub with only the patches it missed", async () => {
    const a = await clusterHub();
    const b = await clusterHub();
    await addTask(a, "before");
    const first = await subscribe(a);
    await first.waitForFrames(1, "the snapshot");
    await expect.poll(() => mirror(first).version >= 1, { timeout: 5000, message: "the first task" }).toBeTruthy();
    const position = mirror(first);
    first.socket.terminate();

    await addTask(a, "missed-1");
    await addTask(b, "missed-2");
    await expect
      .poll(() => b.taskContext.getContext().activeTasks.length === 3, { timeout: 5000, message: "b sees all three" })
      .toBeTruthy();

    const resumed = await subscribe(b, { epoch: position.epoch, version: position.version });
    await resumed.waitForFrames(2, "the missed patches");
    expect(resumed.frames.every((f) => f.type === "patch")).toBe(true);
    expect(resumed.frames.map((f) => (f as { version: number }).version)).toEqual([
      position.version + 1,
      position.version + 2,
    ]);
  });

  it("a hub started on an empty Redis loads the JSON file once; later hubs take Redis's document", async () => {
    const dataDir = await makeDataDir();
    await mkdir(dataDir, { recursive: true });
    const seeded = {
      lastUpdated: "2026-01-01T00:00:00.000Z",
      activeTasks: [],
      recentCompleted: [],
      channelHistory: { voice: { lastActive: "2026-01-01T00:00:00.000Z", lastTaskId: "from-file" } },
    };
    await writeFile(join(dataDir, "active-context.json"), JSON.stringify(seeded));
    const a = await clusterHub(dataDir);
    expect(a.taskContext.getContext().channelHistory.voice?.lastTaskId).toBe("from-file");

    const other = await makeDataDir();
    await writeFile(join(other, "active-context.json"), JSON.stringify({ ...seeded, channelHistory: {} }));
    const b = await clusterHub(other);
    expect(b.taskContext.getContext().channelHistory.voice?.lastTaskId).toBe("from-file");
  });

  it("a Redis killed and restarted gets a new epoch, and clients take a snapshot that holds every acknowledged change", async () => {
    const a = await clusterHub();
    const b = await clusterHub();
    const watcher = await subscribe(b);
    await watcher.waitForFrames(1, "the snapshot");
    expect((await addTask(a, "acked")).status).toBe(201);
    await expect.poll(() => mirror(watcher).version === 1, { timeout: 5000, message: "the patch" }).toBeTruthy();
    const before = mirror(watcher).epoch;

    await redis.kill();
    await redis.restart();

    await expect
      .poll(() => watcher.frames.some((f) => f.type === "snapshot" && f.epoch !== before), {
        timeout: 15_000,
        message: "a snapshot under a new epoch",
      })
      .toBeTruthy();
    const held = mirror(watcher).data as { activeTasks: { taskId: string }[] };
    expect(held.activeTasks.map((t) => t.taskId)).toEqual(["acked"]);
    // The hubs write again once Redis is back.
    await expect
      .poll(() => a.taskContext.getContext().activeTasks.length === 1, { timeout: 5000, message: "a sees the task" })
      .toBeTruthy();
    expect((await addTask(a, "after")).status).toBe(201);
    await expect
      .poll(() => (mirror(watcher).data as { activeTasks: unknown[] }).activeTasks.length === 2, {
        timeout: 5000,
        message: "the change after the restart",
      })
      .toBeTruthy();
  });

  it("a Redis paused for seconds loses and duplicates no patch", async () => {
    const a = await clusterHub();
    const b = await clusterHub();
    const watcher = await subscribe(b);
    await watcher.waitForFrames(1, "the snapshot");

    redis.pause();
    const writes = Array.from({ length: 10 }, (_, i) => addTask(a, `paused-${i}`).then((r) => r.status));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    redis.resume();
    expect(new Set(await Promise.all(writes))).toEqual(new Set([201]));

    await expect
      .poll(() => (mirror(watcher).data as { activeTasks: unknown[] }).activeTasks.length === 10, {
        timeout: 10_000,
        message: "every write",
      })
      .toBeTruthy();
    const versions = watcher.frames.filter((f) => f.type === "patch").map((f) => (f as { version: number }).version);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
  });

  it("a notification runs once, on one hub, though every hub's notifier sees the event", async () => {
    const hubsHere = [await clusterHub(), await clusterHub(), await clusterHub()];
    const log = join(await makeDataDir(), "openclaw.log");
    process.env.FAKE_OPENCLAW_LOG = log;
    const command = join(import.meta.dirname, "..", "fixtures", "bin", "openclaw");
    const settings = parseConfig({ notify: { openclaw: { enabled: true, command } } }).notify;
    const notifiers = await Promise.all(
      hubsHere.map((hub) =>
        startNotifier({
          hubUrl: hub.url,
          token: null,
          settings,
          log: () => {},
          claim: hub.claimOnce as (key: string) => Promise<boolean>,
        }),
      ),
    );
    try {
      await addTask(hubsHere[0] as TestHub, "notify-once");
      await hubsHere[1]?.taskContext.completeTask("notify-once", { result: "done" });
      const runs = async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean);
      await vi.waitFor(async () => expect(await runs()).toHaveLength(1), { timeout: 10_000, interval: 50 });
      await Promise.all(notifiers.map((n) => n?.settled()));
      expect(await runs()).toHaveLength(1);
    } finally {
      await Promise.all(notifiers.map((n) => n?.close()));
    }
  });
});
