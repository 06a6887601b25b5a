// Bad input, generated: property-based fuzzing of every REST body and every WebSocket frame with
// wrong types, huge strings, deep nesting, unicode and prototype-pollution keys. Never a 5xx,
// never a crash, and a refused request changes nothing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../client/cli/dispatch.ts";
import { ConfigError, parseConfig } from "../../server/config.ts";
import { type FakeOllama, startFakeOllama } from "../fixtures/fake-ollama.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";
import { openRawSocket, type RawSocket } from "../helpers/raw-socket.ts";

let hub: TestHub;
let ollama: FakeOllama;
let artifactsDir: string;
const TASK = "fuzz-target";

beforeAll(async () => {
  // One real backend (a fake Ollama on loopback), so a valid route is accepted and runs, and the
  // health endpoints reach a backend, instead of every valid request meeting "no backends".
  ollama = await startFakeOllama({ models: ["llama3.2"], reply: "done" });
  artifactsDir = await mkdtemp(join(tmpdir(), "switchboard-fuzz-artifacts-"));
  hub = await startTestHub({
    config: {
      persistence: { fsync: false },
      backends: { ollama: { kind: "ollama", url: ollama.url, model: "llama3.2" } },
      router: { artifactsDir },
    },
  });
  await hub.taskContext.addTask({
    taskId: TASK,
    description: "a task the fuzzer aims its updates at",
    startedFrom: "cli",
    plan: { steps: [{ title: "one" }, { title: "two", requiresApproval: true }] },
  });
});
afterAll(async () => {
  await hub?.stop();
  await ollama?.close();
  if (artifactsDir) await rm(artifactsDir, { recursive: true, force: true });
});

/** Every mutating endpoint of the contract (the ones not yet built answer 404, never 5xx). */
const ENDPOINTS: [method: string, path: string][] = [
  ["POST", "/api/context/tasks"],
  ["PATCH", `/api/context/tasks/${TASK}`],
  ["POST", `/api/context/tasks/${TASK}/complete`],
  ["POST", `/api/context/tasks/${TASK}/approve`],
  ["POST", `/api/context/tasks/${TASK}/reject`],
  ["POST", `/api/context/tasks/${TASK}/cancel`],
  ["POST", "/api/channels/voice/active"],
  ["POST", "/api/route"],
  ["POST", "/api/health/ollama/ping"],
  ["POST", "/api/health/ollama/prewarm"],
];

const POISON = ["__proto__", "constructor", "prototype"];
const FIELD_NAMES = [
  ...POISON,
  "taskId",
  "description",
  "startedFrom",
  "status",
  "plan",
  "steps",
  "title",
  "prompt",
  "currentStep",
  "totalSteps",
  "eta",
  "progress",
  "result",
  "error",
  "channel",
  "backend",
  "type",
  "topics",
  "since",
  "epoch",
  "version",
];

const nastyString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }), // lone surrogates and control characters
  fc.constantFrom("", " ", "\u0000", "\u202e", "𝕊𝕨𝕚𝕥𝕔𝕙", "../../etc/passwd", "running", "voice", "complete"),
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => "x".repeat(n)),
);
const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-1, 0, 1, 0.5, 2 ** 53, -(2 ** 31), 1e308),
);
const key = fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ unit: "grapheme", maxLength: 12 }));

/** JSON values of every shape, with keys that look like real fields or like pollution. */
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("json"), { maxLength: 5 }),
    fc.array(fc.tuple(key, tie("json")), { maxLength: 6 }).map(objectWithOwnKeys),
  ),
}));

/** Builds an object whose keys are all own properties, `__proto__` included (as JSON.parse does). */
function objectWithOwnKeys(entries: [string, unknown][]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(object, k, { value: v, enumerable: true, writable: true });
  return object;
}

/** A valid body for each endpoint, so mutations of it probe one field at a time. */
const VALID: Record<string, Record<string, unknown>> = {
  "/api/context/tasks": { description: "Draft the reply", startedFrom: "telegram" },
  [`/api/context/tasks/${TASK}`]: { currentStep: 1, lastUpdate: "step 1 started" },
  "/api/channels/voice/active": { taskId: TASK },
  "/api/route": { description: "Summarise the notes", startedFrom: "cli" },
};

const body = (path: string) =>
  fc.oneof(
    json,
    // A valid body with one field replaced or added, poison keys included.
    fc.tuple(key, json).map(([k, v]) => objectWithOwnKeys([...Object.entries(VALID[path] ?? {}), [k, v]])),
  );

/** Raw texts that are not JSON at all, or JSON that parsers choke on. */
const rawText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`),
  fc.integer({ min: 1, max: 200_000 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`),
  fc.constantFrom(
    '{"__proto__":{"polluted":true},"description":"x","startedFrom":"cli"}',
    '{"constructor":{"prototype":{"polluted":true}},"description":"x","startedFrom":"cli"}',
    '{"description":"x","startedFrom":"cli","description":"y"}',
    "{",
    "nul\u0000l",
    "1e999999",
  ),
  fc.constant(`{"description":"${"y".repeat(1024 * 1024 + 10)}","startedFrom":"cli"}`), // over the body limit
);

/** Every byte of the UTF-8 encoding as %XX: always a well-formed path segment. */
function percentEncode(text: string): string {
  return [...Buffer.from(text, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
}

interface Observed {
  context: string;
  health: string;
  versions: string;
}

async function observe(): Promise<Observed> {
  const [context, health] = await Promise.all([
    fetch(`${hub.url}/api/context`).then((r) => r.text()),
    fetch(`${hub.url}/healthz`).then((r) => r.json() as Promise<{ status: string }>),
  ]);
  return {
    context,
    health: health.status,
    versions: `${hub.taskContext.document.version}/${hub.health.version}`,
  };
}

/**
 * Waits until nothing started earlier can still change the health document: the start-up ping has
 * answered and no pre-warmed session (from an accepted prewarm) is still starting.
 */
async function backendQuiet(): Promise<void> {
  await expect
    .poll(
      () => {
        const ollamaHealth = hub.health.state.backends.ollama;
        return !!ollamaHealth?.lastPing && ollamaHealth.prewarmed.every((s) => s.state !== "starting");
      },
      { timeout: 5000, message: "the Ollama backend to be quiet" },
    )
    .toBeTruthy();
}

async function send(method: string, path: string, text: string, contentType = "application/json") {
  const response = await fetch(
    `${hub.url}${path}`,
    method === "GET" ? {} : { method, headers: { "content-type": contentType }, body: text },
  );
  return { status: response.status, body: await response.text() };
}

/** The invariant for every request: no 5xx, a contract error body, and nothing changed when refused. */
async function expectRefusedCleanly(method: string, path: string, text: string, contentType?: string): Promise<void> {
  await backendQuiet();
  const before = await observe();
  const { status, body: reply } = await send(method, path, text, contentType);
  expect(status, `${method} ${path} answered ${status}: ${reply.slice(0, 300)}`).toBeLessThan(500);
  if (status >= 400) {
    const parsed = JSON.parse(reply) as { error: { code: unknown; message: unknown } };
    expect(typeof parsed.error.code).toBe("string");
    expect(typeof parsed.error.message).toBe("string");
    expect(await observe()).toEqual(before);
  } else if (path === "/api/route") {
    // An accepted route runs in the background; let it finish so it cannot change the state
    // under the next request's before-and-after comparison.
    const { taskId } = JSON.parse(reply) as { taskId: string };
    await expect
      .poll(() => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), {
        timeout: 5000,
        message: taskId,
      })
      .toBeTruthy();
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe("bad input over REST", () => {
  for (const [method, path] of ENDPOINTS) {
    it(`${method} ${path}: generated JSON bodies never yield a 5xx and change nothing when refused`, async () => {
      await fc.assert(
        fc.asyncProperty(body(path), async (value) => {
          const text = JSON.stringify(value);
          if (text === undefined) return;
          await expectRefusedCleanly(method, path, text);
        }),
        { numRuns: 60 },
      );
    });
  }

  it("raw bodies that are not JSON, nest too deep, repeat keys, carry pollution or pass the size limit are refused cleanly on every endpoint", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        rawText,
        fc.constantFrom(
          "application/json",
          "text/plain",
          "application/x-www-form-urlencoded",
          "application/json; charset=latin1",
        ),
        async ([method, path], text, contentType) => {
          await expectRefusedCleanly(method, path, text, contentType);
        },
      ),
      { numRuns: 80 },
    );
  });

  it("generated task ids and channel names in the path never yield a 5xx and change nothing when refused", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .oneof(nastyString, fc.constantFrom(...POISON))
            .filter((s) => s.length > 0 && s.length < 4000)
            .map(percentEncode),
          // Segments the URL parser itself must refuse.
          fc.constantFrom("%", "%E0%A4%A", "%zz", "%00", "..%2f..%2f", "%C0%AE%C0%AE"),
        ),
        fc.constantFrom("GET", "PATCH", "POST"),
        async (id, method) => {
          const paths =
            method === "GET"
              ? [`/api/context/tasks/${id}`, `/api/channels/${id}`]
              : method === "PATCH"
                ? [`/api/context/tasks/${id}`]
                : [`/api/context/tasks/${id}/complete`, `/api/channels/${id}/active`];
          for (const path of paths)
            await expectRefusedCleanly(method, path, method === "GET" ? "" : '{"lastUpdate":"x"}');
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("bad input over WebSocket", () => {
  const frame = fc.oneof(
    json.map((v) => JSON.stringify(v) ?? "null"),
    fc.tuple(key, json).map(([k, v]) =>
      JSON.stringify(
        objectWithOwnKeys([
          ["type", "subscribe"],
          ["topics", ["context"]],
          [k, v],
        ]),
      ),
    ),
    fc
      .tuple(fc.constantFrom("subscribe", "unsubscribe"), json)
      .map(([type, topics]) => JSON.stringify({ type, topics })),
    json.map((since) =>
      JSON.stringify({ type: "subscribe", topics: ["context"], since: objectWithOwnKeys([["context", since]]) }),
    ),
    rawText.filter((t) => t.length < 60_000),
  );

  let raw: RawSocket | null = null;
  const fresh = async () => {
    raw = await openRawSocket(hub.url);
    return raw;
  };
  afterAll(() => raw?.socket.terminate());

  it("generated frames are answered with error frames or the data asked for, never crash the hub or change a document", async () => {
    const versions = `${hub.taskContext.document.version}/${hub.health.version}`;
    await fc.assert(
      fc.asyncProperty(frame, async (text) => {
        const socket = raw && raw.socket.readyState === raw.socket.OPEN ? raw : await fresh();
        const from = socket.frames.length;
        socket.send(text);
        // A valid subscribe to health always answers with its snapshot: once it arrives, the
        // hub has handled the fuzzed frame before it (frames are handled in order).
        socket.send({ type: "subscribe", topics: ["health"] });
        const outcome = await Promise.race([
          socket.closed.then((c) => ({ closed: c.code })),
          (async () => {
            for (;;) {
              const arrived = socket.frames.slice(from);
              if (arrived.some((f) => f.type === "snapshot" && f.topic === "health")) return { frames: arrived };
              await new Promise((r) => setTimeout(r, 2));
            }
          })(),
        ]);
        if ("closed" in outcome) {
          // Oversized, binary-looking or endless garbage: the hub may close, with a reason code.
          expect([1003, 1007, 1008, 1009]).toContain(outcome.closed);
        } else {
          for (const f of outcome.frames) {
            expect(["snapshot", "patch", "error"]).toContain(f.type);
            if (f.type === "error") expect(typeof f.message).toBe("string");
          }
        }
        expect(`${hub.taskContext.document.version}/${hub.health.version}`).toBe(versions);
      }),
      { numRuns: 150 },
    );
    // The hub still serves a newcomer the same documents.
    const newcomer = await openRawSocket(hub.url);
    newcomer.send({ type: "subscribe", topics: ["context"] });
    const [snapshot] = await newcomer.waitForFrames(1, "snapshot");
    newcomer.socket.terminate();
    expect(snapshot).toMatchObject({ type: "snapshot", topic: "context", version: hub.taskContext.document.version });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("object-prototype names where a name is looked up", () => {
  const NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
  const request = async (method: string, path: string, payload?: unknown) => {
    await backendQuiet();
    const before = await observe();
    const response = await fetch(`${hub.url}${path}`, {
      method,
      ...(payload === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(payload) }),
    });
    const text = await response.text();
    return { status: response.status, text, before };
  };

  it.each(NAMES)("%s as a backend, task id or channel in a path is 404 or 400 and changes nothing", async (name) => {
    const segment = encodeURIComponent(name);
    for (const [method, path, status] of [
      ["GET", `/api/health/${segment}`, 404],
      ["POST", `/api/health/${segment}/ping`, 404],
      ["POST", `/api/health/${segment}/prewarm`, 404],
      ["GET", `/api/context/tasks/${segment}`, 404],
      ["PATCH", `/api/context/tasks/${segment}`, 404],
      ["POST", `/api/context/tasks/${segment}/approve`, 404],
      ["GET", `/api/channels/${segment}`, 400],
    ] as const) {
      const reply = await request(method, path, method === "PATCH" ? { lastUpdate: "x" } : undefined);
      expect(`${reply.status} ${method} ${path}`).toBe(`${status} ${method} ${path}`);
      expect(JSON.parse(reply.text).error.message).toMatch(/no backend named|no task with id|channel/);
      expect(await observe()).toEqual(reply.before);
    }
  });

  it.each(NAMES)(
    "%s as a route's backend or workspace is a 400 naming it, as its kind an unknown kind",
    async (name) => {
      for (const field of ["backend", "workspace"]) {
        const reply = await request("POST", "/api/route", { description: "d", startedFrom: "cli", [field]: name });
        expect(reply.status, reply.text).toBe(400);
        expect(await observe()).toEqual(reply.before);
      }
      const routed = await request("POST", "/api/route", { description: "d", startedFrom: "cli", kind: name });
      expect(routed.status, routed.text).toBe(202);
      const { taskId } = JSON.parse(routed.text) as { taskId: string };
      expect(hub.taskContext.getActiveTask(taskId)).toMatchObject({ kind: name, backend: "ollama" });
      await expect
        .poll(() => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), {
          timeout: 5000,
          message: taskId,
        })
        .toBeTruthy();
    },
  );

  it("a WebSocket topic or resume position named like a prototype member is an unknown topic", async () => {
    const socket = await openRawSocket(hub.url);
    try {
      for (const name of NAMES) {
        socket.send({ type: "subscribe", topics: [name] });
        socket.send(`{"type":"subscribe","topics":["context"],"since":{"${name}":{"epoch":"e","version":1}}}`);
      }
      await socket.waitForFrames(NAMES.length * 2, "an answer to every frame");
      const answers = socket.frames.slice(0, NAMES.length * 2);
      expect(answers.filter((f) => f.type === "error").length).toBeGreaterThanOrEqual(NAMES.length);
      expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    } finally {
      socket.socket.terminate();
    }
  });

  it.each([
    ["backends", { backends: JSON.parse('{"__proto__": {"kind": "claude"}}') }, "backends.__proto__"],
    ["backends", { backends: { constructor: { kind: "claude" } } }, "backends.constructor"],
    ["router.kinds", { router: { kinds: { toString: ["claude"] } } }, "router.kinds.toString"],
    ["workspaces", { workspaces: { hasOwnProperty: { path: "/tmp" } } }, "workspaces.hasOwnProperty"],
  ])("config.json refuses a prototype name as a key of %s, naming it", (_, config, path) => {
    expect(() => parseConfig(config)).toThrow(ConfigError);
    expect(() => parseConfig(config)).toThrow(`config.json: ${path} uses a name every JavaScript object already has`);
  });

  it.each(NAMES)("the CLI answers %s as an unknown command (exit 2), never a crash", async (name) => {
    let stderr = "";
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    const errors = new Writable({
      write: (chunk, _encoding, done) => {
        stderr += String(chunk);
        done();
      },
    });
    const status = await runCli([name, "--hub", hub.url], {
      stdout: sink,
      stderr: errors,
      env: {},
      now: Date.now,
      interrupted: new Promise(() => {}),
    });
    expect(status).toBe(2);
    expect(stderr).toContain("unknown command");
  });
});
