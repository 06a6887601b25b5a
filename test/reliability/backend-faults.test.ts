// Backend faults: a CLI that hangs, floods its output, exits mid-stream or ignores SIGTERM, and an
// Ollama that accepts the connection but never answers. Each run ends with a clear reason, leaves
// no process (nor zombie) of its group behind, and the next task on the same backend still runs.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BackendFailure } from "../../server/backends/backend.ts";
import { MAX_LINE_CHARS } from "../../server/backends/process.ts";
import { silentLogger } from "../../server/log.ts";
import { type RunningHub, startHub } from "../../server/start.ts";
import { systemClock } from "../../shared/clock.ts";
import type { Task } from "../../shared/schemas.ts";
import { type FakeCliCall, fakeCliCalls, fakeCliEnv, groupMembers } from "../fixtures/fake-cli-env.ts";
import { type FakeOllama, startFakeOllama } from "../fixtures/fake-ollama.ts";
import { makeDataDir, type TestHub, testConfig } from "../helpers/hub.ts";
import { cleanupRouterHubs, routerHub } from "../helpers/router-hub.ts";

/** Short enough to keep the suite quick; long enough that a healthy fake always answers in time. */
const TIMEOUT_MS = 1_500;

let hub: RunningHub | null = null;
let ollama: FakeOllama | null = null;
const cleanup: string[] = [];

afterEach(async () => {
  await cleanupRouterHubs();
  await hub?.close();
  hub = null;
  await ollama?.close();
  ollama = null;
  for (const dir of cleanup.splice(0)) await rm(dir, { recursive: true, force: true });
});

interface CliRig {
  hub: RunningHub;
  log: string;
  /** Sets the fake CLI's modes for the runs that follow (an empty object: behave). */
  setModes(modes: Record<string, string>): Promise<void>;
}

/** A real hub whose `claude` and `codex` are the fakes, with modes read from a file per run. */
async function cliHub(): Promise<CliRig> {
  const dataDir = await makeDataDir();
  cleanup.push(dataDir);
  const { env, log } = await fakeCliEnv();
  cleanup.push(dirname(log));
  const modeFile = join(dirname(log), "modes.json");
  await writeFile(modeFile, "{}");
  hub = await startHub({
    config: testConfig(
      { backends: { claude: { kind: "claude" }, codex: { kind: "codex" } }, warmup: { pingTimeoutMs: TIMEOUT_MS } },
      dataDir,
    ),
    secrets: { token: null },
    logger: silentLogger,
    clock: systemClock,
    backendEnv: { ...env, FAKE_CLI_MODE_FILE: modeFile },
  });
  return { hub, log, setModes: (modes) => writeFile(modeFile, JSON.stringify(modes)) };
}

async function dispatch(rig: { hub: RunningHub }, backend: string, prompt: string) {
  const output: string[] = [];
  const result = await rig.hub.warmStandby.dispatch(backend, {
    prompt,
    onOutput: (text) => output.push(text),
    signal: new AbortController().signal,
    timeoutMs: TIMEOUT_MS,
    preferWarm: false,
  });
  return { ...result, streamed: output.join("") };
}

/** The failure a dispatch ends with (a test fails if it succeeds). */
async function failureOf(promise: Promise<unknown>): Promise<BackendFailure> {
  const outcome = await promise.then(
    () => new Error("expected the run to fail"),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(BackendFailure);
  return outcome as BackendFailure;
}

/** The run invocations the fake logged (pings and --version calls left out). */
async function runCalls(log: string, name: string): Promise<FakeCliCall[]> {
  return (await fakeCliCalls(log)).filter((c) => c.name === name && c.argv[0] !== "--version" && c.argv[0] !== "auth");
}

/** Waits until nothing of the process group is left: not running, not a zombie. */
async function groupGone(pgid: number): Promise<void> {
  await expect
    .poll(() => groupMembers(pgid).length === 0, { timeout: 5_000, message: `process group ${pgid} to be gone` })
    .toBeTruthy();
  expect(groupMembers(pgid)).toEqual([]);
}

describe("a CLI backend that misbehaves", () => {
  it.each([
    ["claude", "hangs", { FAKE_CLI_HANG: "run", FAKE_CLI_CHILD: "1" }],
    ["codex", "hangs", { FAKE_CLI_HANG: "run", FAKE_CLI_CHILD: "1" }],
    [
      "claude",
      "hangs and ignores SIGTERM",
      { FAKE_CLI_HANG: "run", FAKE_CLI_IGNORE_SIGTERM: "1", FAKE_CLI_CHILD: "1" },
    ],
    ["claude", "floods its output with lines and never answers", { FAKE_CLI_FLOOD: "lines" }],
    ["codex", "floods its output with lines and never answers", { FAKE_CLI_FLOOD: "lines" }],
  ])(
    "%s that %s times out with a clear reason, its whole group is killed and reaped, and the next task runs",
    async (backend, _, modes) => {
      const rig = await cliHub();
      await rig.setModes(modes);
      const failure = await failureOf(dispatch(rig, backend, "first task"));
      expect(failure.reason).toBe("timed out");
      expect(failure.message).toBe(`timed out: no answer within ${TIMEOUT_MS} ms`);

      const [call] = await runCalls(rig.log, backend);
      expect(call).toBeDefined();
      // The run led its own group; it and its grandchild (FAKE_CLI_CHILD) are gone, with no zombie.
      expect(call?.pgid).toBe(call?.pid);
      await groupGone(call?.pgid as number);

      await rig.setModes({});
      const next = await dispatch(rig, backend, "second task");
      expect(next.output).toBe("echo: second task");
    },
  );

  it.each(["claude", "codex"])(
    "%s flooding its output with no line break fails the run with a clear reason instead of growing the hub without bound, and the next task runs",
    async (backend) => {
      const rig = await cliHub();
      await rig.setModes({ FAKE_CLI_FLOOD: "unbroken" });
      const failure = await failureOf(dispatch(rig, backend, "first task"));
      expect(failure.reason).toBe("failed");
      expect(failure.message).toBe(
        `failed: ${backend} wrote more than ${MAX_LINE_CHARS} characters without a line break; that is not the JSON event stream it should print`,
      );
      const [call] = await runCalls(rig.log, backend);
      await groupGone(call?.pgid as number);

      await rig.setModes({});
      expect((await dispatch(rig, backend, "second task")).output).toBe("echo: second task");
    },
  );

  it("a CLI that exits mid-stream fails with its exit status and last words, and the next task runs", async () => {
    const rig = await cliHub();
    await rig.setModes({ FAKE_CLI_FAIL_AFTER: "2", FAKE_CLI_CHUNKS: "5", FAKE_CLI_REPLY: "a long answer, cut short" });
    const failure = await failureOf(dispatch(rig, "claude", "first task"));
    expect(failure.reason).toBe("failed");
    expect(failure.message).toBe(
      "failed: claude exited with status 1 before answering: fake-cli: lost the connection mid-stream",
    );
    const [call] = await runCalls(rig.log, "claude");
    await groupGone(call?.pgid as number);

    await rig.setModes({});
    expect((await dispatch(rig, "claude", "second task")).output).toBe("echo: second task");
  });

  it("a codex run that exits mid-stream fails the same way", async () => {
    const rig = await cliHub();
    await rig.setModes({ FAKE_CLI_FAIL_AFTER: "1" });
    const failure = await failureOf(dispatch(rig, "codex", "first task"));
    expect(failure.reason).toBe("failed");
    expect(failure.message).toMatch(/^failed: codex exited with status 1 before answering: .*lost the connection/);
    await rig.setModes({});
    expect((await dispatch(rig, "codex", "second task")).output).toBe("echo: second task");
  });

  it("a ping whose CLI hangs and ignores SIGTERM marks the backend dead (timed out) and leaves no process", async () => {
    const rig = await cliHub();
    await rig.setModes({ FAKE_CLI_HANG: "version", FAKE_CLI_IGNORE_SIGTERM: "1", FAKE_CLI_CHILD: "1" });
    await rig.hub.warmStandby.pingNow("claude");
    expect(rig.hub.warmStandby.getHealth("claude")).toMatchObject({ status: "dead", reason: "timed out" });
    const version = (await fakeCliCalls(rig.log)).find((c) => c.name === "claude" && c.argv[0] === "--version");
    await groupGone(version?.pgid as number);

    await rig.setModes({});
    await rig.hub.warmStandby.pingNow("claude");
    expect(rig.hub.warmStandby.getHealth("claude")).toMatchObject({ status: "warm", reason: null });
  });

  it("closing the hub kills a pre-warmed session that ignores SIGTERM, leaving no process", async () => {
    const rig = await cliHub();
    await rig.setModes({ FAKE_CLI_IGNORE_SIGTERM: "1", FAKE_CLI_CHILD: "1", FAKE_CLI_HANG: "run" });
    rig.hub.warmStandby.preWarm("claude");
    await expect
      .poll(async () => (await runCalls(rig.log, "claude")).length > 0, {
        timeout: 5_000,
        message: "the session to start",
      })
      .toBeTruthy();
    const [call] = await runCalls(rig.log, "claude");
    // Running, with its grandchild, until the hub closes.
    await expect
      .poll(() => groupMembers(call?.pgid as number).length >= 2, {
        timeout: 5_000,
        message: "the grandchild to start",
      })
      .toBeTruthy();
    await rig.hub.close();
    hub = null;
    await groupGone(call?.pgid as number);
  });
});

describe("an Ollama that accepts connections but never answers", () => {
  async function ollamaHub(): Promise<RunningHub> {
    const dataDir = await makeDataDir();
    cleanup.push(dataDir);
    ollama = await startFakeOllama({ reply: "the answer", chunks: 3 });
    hub = await startHub({
      config: testConfig(
        { backends: { ollama: { kind: "ollama", url: ollama.url } }, warmup: { pingTimeoutMs: TIMEOUT_MS } },
        dataDir,
      ),
      secrets: { token: null },
      logger: silentLogger,
      clock: systemClock,
    });
    return hub;
  }

  it("a dispatch times out with a clear reason, and the next one runs once it answers again", async () => {
    const running = await ollamaHub();
    (ollama as FakeOllama).mode = "hang";
    const failure = await failureOf(dispatch({ hub: running }, "ollama", "first task"));
    expect(failure.reason).toBe("timed out");
    expect((ollama as FakeOllama).calls.some((c) => c.path === "/api/chat")).toBe(true);

    (ollama as FakeOllama).mode = "ok";
    const next = await dispatch({ hub: running }, "ollama", "second task");
    expect(next.output).toBe("the answer");
  });

  it("a ping times out and marks it dead, then alive again once it answers", async () => {
    const running = await ollamaHub();
    (ollama as FakeOllama).mode = "hang";
    await running.warmStandby.pingNow("ollama");
    expect(running.warmStandby.getHealth("ollama")).toMatchObject({ status: "dead", reason: "timed out" });
    (ollama as FakeOllama).mode = "ok";
    await running.warmStandby.pingNow("ollama");
    expect(running.warmStandby.getHealth("ollama").status).not.toBe("dead");
  });
});

describe("through the router: a faulty backend fails its task readably, and the next routed task completes", () => {
  /** A router hub whose fake CLIs read their modes from a file the test rewrites between tasks. */
  async function faultyRouterHub(backends?: Record<string, unknown>) {
    const modesDir = await mkdtemp(join(tmpdir(), "switchboard-modes-"));
    cleanup.push(modesDir);
    const modeFile = join(modesDir, "modes.json");
    await writeFile(modeFile, "{}");
    const rig = await routerHub({
      ...(backends ? { backends } : {}),
      modes: { FAKE_CLI_MODE_FILE: modeFile },
      router: { stepTimeoutMs: TIMEOUT_MS },
    });
    return { ...rig, setModes: (modes: Record<string, string>) => writeFile(modeFile, JSON.stringify(modes)) };
  }

  async function routeToEnd(
    hub: TestHub,
    client: Awaited<ReturnType<typeof routerHub>>["client"],
    description: string,
  ) {
    const { taskId } = await client.route({ description, startedFrom: "cli" });
    await expect
      .poll(() => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === taskId), {
        timeout: 15_000,
        message: `${description} to finish`,
      })
      .toBeTruthy();
    return hub.taskContext.getActiveTask(taskId) as Task;
  }

  it.each([
    [
      "hangs and ignores SIGTERM",
      { FAKE_CLI_HANG: "run", FAKE_CLI_IGNORE_SIGTERM: "1", FAKE_CLI_CHILD: "1" },
      `timed out: no answer within ${TIMEOUT_MS} ms`,
    ],
    ["floods its output with lines", { FAKE_CLI_FLOOD: "lines" }, `timed out: no answer within ${TIMEOUT_MS} ms`],
    [
      "floods its output with no line break",
      { FAKE_CLI_FLOOD: "unbroken" },
      `claude wrote more than ${MAX_LINE_CHARS} characters without a line break; that is not the JSON event stream it should print`,
    ],
    [
      "exits mid-stream",
      { FAKE_CLI_FAIL_AFTER: "1" },
      "claude exited with status 1 before answering: fake-cli: lost the connection mid-stream",
    ],
  ])("a CLI that %s", async (_, modes, reason) => {
    const { hub, client, log, setModes } = await faultyRouterHub();
    await setModes(modes);
    const failed = await routeToEnd(hub, client, "Doomed");
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe(`step 1 of 1 (Doomed) failed on claude: ${reason}`);
    const [run] = await runCalls(log, "claude");
    await groupGone(run?.pgid as number);

    await setModes({});
    const next = await routeToEnd(hub, client, "Next one");
    expect(next).toMatchObject({ status: "complete", backend: "claude" });
  });

  it("an Ollama that accepts the connection but never answers", async () => {
    ollama = await startFakeOllama({ models: ["llama3.2"], reply: "the answer" });
    const { hub, client } = await faultyRouterHub({ ollama: { kind: "ollama", url: ollama.url, model: "llama3.2" } });
    ollama.mode = "hang";
    const failed = await routeToEnd(hub, client, "Doomed");
    expect(failed).toMatchObject({ status: "failed", error: "step 1 of 1 (Doomed) failed on ollama: timed out" });

    ollama.mode = "ok";
    const next = await routeToEnd(hub, client, "Next one");
    expect(next).toMatchObject({ status: "complete", backend: "ollama" });
  });
});
