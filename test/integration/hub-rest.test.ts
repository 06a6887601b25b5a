// The REST surface of the hub: contract status codes and error shape, limits, and that a
// refused request leaves the document, its version and its file untouched.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VERSION } from "../../server/hub.ts";
import { CONTEXT_FILE } from "../../server/start.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { json, openRawSocket, type RawSocket, rawRequest } from "../helpers/raw-socket.ts";

let hub: TestHub;
let sockets: RawSocket[] = [];

beforeEach(async () => {
  hub = await startTestHub({ config: { hub: { bodyLimitBytes: 4096 } } });
});

afterEach(async () => {
  for (const raw of sockets) raw.socket.terminate();
  sockets = [];
  await hub.stop();
});

const post = (path: string, body: unknown) =>
  rawRequest(`${hub.url}${path}`, { method: "POST", headers: json, body: JSON.stringify(body) });
const patch = (path: string, body: unknown) =>
  rawRequest(`${hub.url}${path}`, { method: "PATCH", headers: json, body: JSON.stringify(body) });

async function addTask(taskId: string) {
  const res = await post("/api/context/tasks", {
    taskId,
    description: "Analyze trust documents",
    startedFrom: "voice",
  });
  expect(res.status).toBe(201);
  return res.body as { taskId: string };
}

/** Everything a refused request must leave alone: the document, its version and its file. */
async function observable() {
  await hub.taskContext.document.persist();
  return {
    context: (await rawRequest(`${hub.url}/api/context`)).body,
    version: hub.taskContext.document.version,
    file: await readFile(join(hub.dataDir, CONTEXT_FILE), "utf8"),
  };
}

function expectContractError(res: { status: number; body: unknown }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
  expect((res.body as { error: { message: string } }).error.message.length).toBeGreaterThan(10);
}

describe("REST: the context and channels", () => {
  it("adds a task with 201, serves it, and treats a replay of the same task as a no-op", async () => {
    const created = await addTask("route_a");
    const versionAfterAdd = hub.taskContext.document.version;
    const one = await rawRequest(`${hub.url}/api/context/tasks/route_a`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created);

    const replay = await post("/api/context/tasks", {
      taskId: "route_a",
      description: "Analyze trust documents",
      startedFrom: "voice",
    });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(created);
    expect(hub.taskContext.document.version).toBe(versionAfterAdd);
  });

  it("updates, completes, and records channel activity through their endpoints", async () => {
    await addTask("route_b");
    const updated = await patch("/api/context/tasks/route_b", { currentStep: 1, totalSteps: 4, lastUpdate: "step 1" });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ currentStep: 1, totalSteps: 4, lastUpdate: "step 1" });

    const active = await post("/api/channels/telegram/active", { taskId: "route_b" });
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ lastTaskId: "route_b", task: { taskId: "route_b" } });
    const state = await rawRequest(`${hub.url}/api/channels/telegram`);
    expect(state.body).toMatchObject({ lastTaskId: "route_b" });

    const done = await post("/api/context/tasks/route_b/complete", { result: "3 findings" });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: "complete", result: "3 findings" });
    const context = (await rawRequest(`${hub.url}/api/context`)).body as {
      activeTasks: unknown[];
      recentCompleted: { taskId: string }[];
    };
    expect(context.activeTasks).toEqual([]);
    expect(context.recentCompleted.map((t) => t.taskId)).toEqual(["route_b"]);
  });

  it("answers an empty POST to complete as if the body were {}", async () => {
    await addTask("route_c");
    const res = await rawRequest(`${hub.url}/api/context/tasks/route_c/complete`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "complete" });
  });
});

describe("REST: refused requests", () => {
  it("refuses an unknown field with 400 naming the field, and changes nothing", async () => {
    await addTask("route_d");
    const before = await observable();
    const res = await patch("/api/context/tasks/route_d", { currentStep: 1, colour: "red" });
    expectContractError(res, 400, "invalid_input");
    expect((res.body as { error: { message: string } }).error.message).toContain('"colour"');
    expect(await observable()).toEqual(before);
  });

  it("refuses a wrongly typed value and a body that is not JSON with 400, changing nothing", async () => {
    await addTask("route_e");
    const before = await observable();
    expectContractError(await patch("/api/context/tasks/route_e", { currentStep: "two" }), 400, "invalid_input");
    const notJson = await rawRequest(`${hub.url}/api/context/tasks`, { method: "POST", headers: json, body: "{oops" });
    expectContractError(notJson, 400, "invalid_input");
    const poisoned = await rawRequest(`${hub.url}/api/context/tasks`, {
      method: "POST",
      headers: json,
      body: '{"description":"x","startedFrom":"cli","__proto__":{"admin":true}}',
    });
    expectContractError(poisoned, 400, "invalid_input");
    // The same key spelled with JSON escapes is refused too.
    const escaped = await rawRequest(`${hub.url}/api/context/tasks`, {
      method: "POST",
      headers: json,
      body: String.raw`{"description":"x","startedFrom":"cli","\u005f_proto__":{"admin":true}}`,
    });
    expectContractError(escaped, 400, "invalid_input");
    expect(await observable()).toEqual(before);
  });

  it("answers 404 for an unknown task, an unknown route and an unknown channel's update target", async () => {
    const before = await observable();
    expectContractError(await rawRequest(`${hub.url}/api/context/tasks/route_missing`), 404, "not_found");
    expectContractError(await patch("/api/context/tasks/route_missing", { currentStep: 1 }), 404, "not_found");
    expectContractError(await post("/api/context/tasks/route_missing/complete", {}), 404, "not_found");
    expectContractError(await post("/api/channels/voice/active", { taskId: "route_missing" }), 404, "not_found");
    expectContractError(await rawRequest(`${hub.url}/api/nothing-here`), 404, "not_found");
    expect(await observable()).toEqual(before);
  });

  it("answers 409 for a different task under an existing id and for changing a finished task", async () => {
    await addTask("route_f");
    await post("/api/context/tasks/route_f/complete", {});
    const before = await observable();
    const clash = await post("/api/context/tasks", {
      taskId: "route_f",
      description: "Something else",
      startedFrom: "cli",
    });
    expectContractError(clash, 409, "conflict");
    expectContractError(await patch("/api/context/tasks/route_f", { lastUpdate: "late" }), 409, "conflict");
    expect(await observable()).toEqual(before);
  });

  it("answers 413 for a body over the configured limit, changing nothing", async () => {
    const before = await observable();
    const res = await post("/api/context/tasks", { description: "x".repeat(5000), startedFrom: "cli" });
    expectContractError(res, 413, "too_large");
    expect(await observable()).toEqual(before);
  });

  it("answers 400 for a body that is not sent as JSON", async () => {
    const res = await rawRequest(`${hub.url}/api/context/tasks`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "description=x",
    });
    expectContractError(res, 400, "invalid_input");
    expect((res.body as { error: { message: string } }).error.message).toContain("application/json");
  });
});

describe("GET /healthz", () => {
  it("reports the version, the uptime and how many WebSocket clients are connected", async () => {
    sockets.push(await openRawSocket(hub.url), await openRawSocket(hub.url));
    const res = await rawRequest(`${hub.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ok", version: VERSION, uptimeSeconds: expect.any(Number), clients: 2 });

    const leaving = sockets.pop() as RawSocket;
    leaving.socket.close();
    await leaving.closed;
    await expect
      .poll(async () => ((await rawRequest(`${hub.url}/healthz`)).body as { clients: number }).clients)
      .toBe(1);
  });
});
