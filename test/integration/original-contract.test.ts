// The data shapes the seed's routers send, over REST on a real hub: their own plan objects and
// result values kept as they are, a final status through PATCH, and an Ollama backend whose
// model is missing.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTEXT_FILE } from "../../server/start.ts";
import { type FakeOllama, startFakeOllama } from "../fixtures/fake-ollama.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { json, rawRequest } from "../helpers/raw-socket.ts";

let hub: TestHub | null = null;
let ollama: FakeOllama | null = null;

afterEach(async () => {
  await hub?.stop();
  await ollama?.close();
  hub = null;
  ollama = null;
});

const send = (method: string, path: string, body?: unknown) =>
  rawRequest(`${hub?.url}${path}`, {
    method,
    headers: json,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const onDisk = async () =>
  JSON.parse(await readFile(join(hub?.dataDir ?? "", CONTEXT_FILE), "utf8")) as {
    activeTasks: Record<string, unknown>[];
    recentCompleted: Record<string, unknown>[];
  };

describe("the seed's data contract over REST", () => {
  it("keeps a router's own plan object as it is, counting the steps it understands", async () => {
    hub = await startTestHub();
    const plan = {
      steps: [{ title: "OCR", engine: "tesseract" }, { title: "Summarize" }],
      router: "index.js",
      version: 3,
    };
    const added = await send("POST", "/api/context/tasks", {
      taskId: "ocr-1",
      description: "OCR the scans",
      startedFrom: "cli",
      plan,
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ plan, totalSteps: 2 });
    expect((await send("GET", "/api/context/tasks/ocr-1")).body).toMatchObject({ plan });
    expect((await onDisk()).activeTasks[0]?.plan).toEqual(plan);
  });

  it('PATCH with status "complete" and a result object finishes the task into recentCompleted', async () => {
    hub = await startTestHub();
    await send("POST", "/api/context/tasks", { taskId: "t1", description: "Draft", startedFrom: "cli" });
    const result = { words: 812, sections: ["intro", "body"] };
    const finished = await send("PATCH", "/api/context/tasks/t1", { status: "complete", result });
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({ taskId: "t1", status: "complete", result, progress: 1 });
    const context = (await send("GET", "/api/context")).body as Awaited<ReturnType<typeof onDisk>>;
    expect(context.activeTasks).toEqual([]);
    expect(context.recentCompleted[0]).toMatchObject({ taskId: "t1", status: "complete", result });
    expect((await onDisk()).recentCompleted[0]).toEqual(finished.body);
  });

  it("POST …/complete with the router's own result object keeps it as the result", async () => {
    hub = await startTestHub();
    await send("POST", "/api/context/tasks", { taskId: "t1", description: "Draft", startedFrom: "cli" });
    const result = { ok: true, summary: "done in 3 steps", cost: { usd: 0.02 } };
    const finished = await send("POST", "/api/context/tasks/t1/complete", result);
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({ status: "complete", result });
    const tooBig = await send("POST", "/api/context/tasks/t1/complete", { summary: "x".repeat(30_000) });
    expect(tooBig.status).toBe(400);
  });

  it("an Ollama backend without the configured model pulled is dead, reason 'model <name> not pulled'", async () => {
    ollama = await startFakeOllama({ models: ["qwen3:latest"] });
    hub = await startTestHub({
      config: { backends: { ollama: { kind: "ollama", url: ollama.url, model: "llama3.2" } } },
    });
    const pinged = await send("POST", "/api/health/ollama/ping");
    expect(pinged.body).toMatchObject({ status: "dead", reason: "model llama3.2 not pulled" });
    ollama.pulled.add("llama3.2:latest");
    expect((await send("POST", "/api/health/ollama/ping")).body).toMatchObject({ status: "warm", reason: null });
  });
});
