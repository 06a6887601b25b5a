// The backend kinds against real child processes (fake CLIs on PATH) and a fake Ollama on
// loopback: what each ping reports, how dispatch streams, and that no process is left behind.
import { afterEach, describe, expect, it } from "vitest";
import type { BackendDeps } from "../../server/backends/backend.ts";
import { claudeBackend } from "../../server/backends/claude.ts";
import { codexBackend } from "../../server/backends/codex.ts";
import { isModelPulled, ollamaBackend } from "../../server/backends/ollama.ts";
import { type BackendSettings, backendSettingsSchema } from "../../server/backends/settings.ts";
import { silentLogger } from "../../server/log.ts";
import { ManualClock, systemClock } from "../../shared/clock.ts";
import { emptyPathEnv, fakeCliCalls, fakeCliEnv, groupMembers } from "../fixtures/fake-cli-env.ts";
import { type FakeOllama, startFakeOllama } from "../fixtures/fake-ollama.ts";

const settings = (raw: Record<string, unknown>): BackendSettings => backendSettingsSchema.parse(raw);
const claude = settings({ kind: "claude" });
const codex = settings({ kind: "codex" });
const deps = (env: NodeJS.ProcessEnv, clock = systemClock): BackendDeps => ({ clock, logger: silentLogger, env });
const noAbort = () => new AbortController().signal;

let ollama: FakeOllama | null = null;
afterEach(async () => {
  await ollama?.close();
  ollama = null;
});

/** The group still holds a live (not zombie) process. */
const liveIn = (pgid: number) => groupMembers(pgid).filter((p) => p.state !== "Z");

describe("claude ping", () => {
  it("records the version and auth method of a logged-in CLI", async () => {
    const { env, log } = await fakeCliEnv({
      FAKE_CLI_VERSION: "2.3.0 (Claude Code)",
      FAKE_CLI_AUTH_METHOD: "claude.ai",
    });
    const result = await claudeBackend.ping(claude, deps(env), { timeoutMs: 10_000 });
    expect(result).toEqual({ ok: true, version: "2.3.0 (Claude Code)", authMethod: "claude.ai" });
    expect((await fakeCliCalls(log)).map((c) => c.argv)).toEqual([["--version"], ["auth", "status"]]);
  });

  it("is dead with reason 'not logged in' when the binary answers but auth status says logged out", async () => {
    const { env } = await fakeCliEnv({ FAKE_CLI_AUTH: "logged-out" });
    const result = await claudeBackend.ping(claude, deps(env), { timeoutMs: 10_000 });
    expect(result).toEqual({ ok: false, reason: "not logged in", version: "2.1.4 (Claude Code)" });
  });

  it("is dead with reason 'not installed' when the command is not on PATH", async () => {
    const result = await claudeBackend.ping(claude, deps(emptyPathEnv()), { timeoutMs: 10_000 });
    expect(result).toEqual({ ok: false, reason: "not installed", version: null });
  });

  it("says how --version failed when it exits non-zero", async () => {
    const { env } = await fakeCliEnv({ FAKE_CLI_FAIL: "version" });
    const result = await claudeBackend.ping(claude, deps(env), { timeoutMs: 10_000 });
    expect(result).toEqual({ ok: false, reason: "claude --version exited with status 2" });
  });

  it("times out a hung CLI and kills its whole process group, grandchildren included", async () => {
    const clock = new ManualClock();
    const { env, log } = await fakeCliEnv({ FAKE_CLI_HANG: "auth", FAKE_CLI_CHILD: "1" });
    const pinging = claudeBackend.ping(claude, deps(env, clock), { timeoutMs: 20_000 });
    await expect
      .poll(async () => (await fakeCliCalls(log)).length === 2, { timeout: 10_000, message: "auth status to start" })
      .toBeTruthy();
    const hung = (await fakeCliCalls(log))[1]!;
    await expect
      .poll(() => groupMembers(hung.pgid).length >= 2, { timeout: 10_000, message: "the grandchild to start" })
      .toBeTruthy();
    clock.advance(20_000);
    expect(await pinging).toEqual({ ok: false, reason: "timed out", version: "2.1.4 (Claude Code)" });
    await expect
      .poll(() => liveIn(hung.pgid).length === 0, { timeout: 10_000, message: "the process group to die" })
      .toBeTruthy();
    expect(hung.pgid).toBe(hung.pid);
  });
});

describe("codex ping", () => {
  it("records the version and how it is logged in", async () => {
    const { env, log } = await fakeCliEnv({ FAKE_CLI_AUTH_METHOD: "ChatGPT" });
    const result = await codexBackend.ping(codex, deps(env), { timeoutMs: 10_000 });
    expect(result).toEqual({ ok: true, version: "codex-cli 0.46.0", authMethod: "ChatGPT" });
    expect((await fakeCliCalls(log)).map((c) => c.argv)).toEqual([["--version"], ["login", "status"]]);
  });

  it("is dead with reason 'not logged in' when login status exits non-zero", async () => {
    const { env } = await fakeCliEnv({ FAKE_CLI_AUTH: "logged-out" });
    const result = await codexBackend.ping(codex, deps(env), { timeoutMs: 10_000 });
    expect(result).toMatchObject({ ok: false, reason: "not logged in" });
  });
});

describe("claude dispatch", () => {
  it("cold: writes one stream-json user message and streams assistant text, returning the result", async () => {
    const { env, log } = await fakeCliEnv({ FAKE_CLI_REPLY: "three small words", FAKE_CLI_CHUNKS: "3" });
    const streamed: string[] = [];
    const result = await claudeBackend.dispatch(claude, deps(env), {
      prompt: "Summarise the trust documents",
      onOutput: (text) => streamed.push(text),
      signal: noAbort(),
      timeoutMs: 10_000,
    });
    // The fake's result reports its usage like the real CLI: cost, tokens, cache reads, turns.
    expect(result).toEqual({
      output: "three small words",
      usage: { costUsd: 0.0123, inputTokens: 100, outputTokens: 20, cacheReadTokens: 50, turns: 1 },
      rateLimit: null,
      conversationId: expect.stringMatching(/^fake-session-/),
    });
    expect(streamed.join("")).toBe("three small words");
    expect(streamed.length).toBe(3);
    const [call] = await fakeCliCalls(log);
    expect(call?.argv).toEqual(["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose"]);
  });

  it("warm: runs on the pre-started process instead of starting another", async () => {
    const { env, log } = await fakeCliEnv({ FAKE_CLI_START_DELAY_MS: "300" });
    const session = claudeBackend.prewarm(claude, deps(env), { id: "claude-1" });
    await session.ready;
    const result = await claudeBackend.dispatch(claude, deps(env), {
      prompt: "hello",
      session,
      onOutput: () => {},
      signal: noAbort(),
      timeoutMs: 10_000,
    });
    expect(result.output).toBe("echo: hello");
    const calls = await fakeCliCalls(log);
    expect(calls.length).toBe(1);
    expect(calls[0]?.pid).toBe(session.pid);
    await session.exited;
  });

  it("fails with the CLI's complaint when the stream breaks off mid-way", async () => {
    const { env } = await fakeCliEnv({ FAKE_CLI_FAIL_AFTER: "2", FAKE_CLI_CHUNKS: "4" });
    const streamed: string[] = [];
    const run = claudeBackend.dispatch(claude, deps(env), {
      prompt: "a long answer please",
      onOutput: (text) => streamed.push(text),
      signal: noAbort(),
      timeoutMs: 10_000,
    });
    await expect(run).rejects.toThrow(
      /exited with status 1 before answering: fake-cli: lost the connection mid-stream/,
    );
    expect(streamed.length).toBe(1);
  });

  it("reports an error result as a failure", async () => {
    const { env } = await fakeCliEnv({ FAKE_CLI_RESULT_ERROR: "1" });
    const run = claudeBackend.dispatch(claude, deps(env), {
      prompt: "x",
      onOutput: () => {},
      signal: noAbort(),
      timeoutMs: 10_000,
    });
    await expect(run).rejects.toThrow(/claude reported an error: the fake was told to fail/);
  });

  it("an abort kills the run, even one that ignores SIGTERM, and rejects as cancelled", async () => {
    const { env, log } = await fakeCliEnv({ FAKE_CLI_HANG: "run", FAKE_CLI_IGNORE_SIGTERM: "1", FAKE_CLI_CHILD: "1" });
    const controller = new AbortController();
    const run = claudeBackend.dispatch(claude, deps(env), {
      prompt: "x",
      onOutput: () => {},
      signal: controller.signal,
      timeoutMs: 60_000,
    });
    await expect
      .poll(async () => (await fakeCliCalls(log)).length === 1, { timeout: 10_000, message: "the CLI to start" })
      .toBeTruthy();
    const [call] = await fakeCliCalls(log);
    await expect
      .poll(() => groupMembers(call!.pgid).length >= 2, { timeout: 10_000, message: "the grandchild to start" })
      .toBeTruthy();
    controller.abort();
    await expect(run).rejects.toThrow("cancelled");
    await expect
      .poll(() => liveIn(call!.pgid).length === 0, { timeout: 10_000, message: "the process group to die" })
      .toBeTruthy();
  });
});

describe("codex dispatch", () => {
  it("writes the prompt, closes stdin and returns the final agent message", async () => {
    const { env, log } = await fakeCliEnv({ FAKE_CLI_REPLY: "final answer", FAKE_CLI_CHUNKS: "2" });
    const streamed: string[] = [];
    const result = await codexBackend.dispatch(codex, deps(env), {
      prompt: "fix the build",
      onOutput: (text) => streamed.push(text),
      signal: noAbort(),
      timeoutMs: 10_000,
    });
    expect(result).toEqual({
      output: "final answer",
      usage: { costUsd: 0, inputTokens: 100, outputTokens: 30, cacheReadTokens: 20, turns: 1 },
      conversationId: expect.stringMatching(/^fake-thread-/),
    });
    expect(streamed).toEqual(["final ", "final answer"]);
    expect((await fakeCliCalls(log))[0]?.argv).toEqual(["exec", "--json", "-"]);
  });

  it("a failed turn is a failure with its message", async () => {
    const { env } = await fakeCliEnv({ FAKE_CLI_RESULT_ERROR: "1" });
    const run = codexBackend.dispatch(codex, deps(env), {
      prompt: "x",
      onOutput: () => {},
      signal: noAbort(),
      timeoutMs: 10_000,
    });
    await expect(run).rejects.toThrow(/codex reported an error: the fake was told to fail/);
  });
});

describe("ollama", () => {
  it("ping: GET /api/tags proves it is up and /api/ps lists loaded models", async () => {
    ollama = await startFakeOllama();
    ollama.loaded.add("llama3.2:latest");
    const result = await ollamaBackend.ping(settings({ kind: "ollama", url: ollama.url }), deps({}), {
      timeoutMs: 10_000,
    });
    expect(result).toEqual({ ok: true, version: null, authMethod: null, loadedModels: ["llama3.2:latest"] });
    expect(ollama.calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /api/tags", "GET /api/ps"]);
  });

  it("ping: a configured model that is not pulled fails with 'model <name> not pulled'", async () => {
    ollama = await startFakeOllama({ models: ["qwen3:latest", "llama3.2:1b"] });
    const result = await ollamaBackend.ping(
      settings({ kind: "ollama", url: ollama.url, model: "llama3.2" }),
      deps({}),
      {
        timeoutMs: 10_000,
      },
    );
    expect(result).toEqual({ ok: false, reason: "model llama3.2 not pulled" });
    expect(ollama.calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /api/tags"]);
    ollama.pulled.add("llama3.2:latest");
    const again = await ollamaBackend.ping(settings({ kind: "ollama", url: ollama.url, model: "llama3.2" }), deps({}), {
      timeoutMs: 10_000,
    });
    expect(again).toMatchObject({ ok: true });
  });

  it.each([
    [["llama3.2:latest"], "llama3.2", true],
    [["llama3.2"], "llama3.2:latest", true],
    [["llama3.2:1b"], "llama3.2", false],
    [["llama3.2:1b"], "llama3.2:1b", true],
    [["qwen3:latest"], "llama3.2", false],
    [[], "llama3.2", false],
  ])("isModelPulled(%j, %s) is %s: no tag means :latest, as Ollama reads it", (pulled, model, expected) => {
    expect(isModelPulled(pulled, model)).toBe(expected);
  });

  it("ping: a refused connection is 'unreachable'", async () => {
    ollama = await startFakeOllama();
    const url = ollama.url;
    await ollama.close();
    ollama = null;
    const result = await ollamaBackend.ping(settings({ kind: "ollama", url }), deps({}), { timeoutMs: 10_000 });
    expect(result).toEqual({ ok: false, reason: "unreachable" });
  });

  it("ping: a server that never answers is 'timed out'", async () => {
    ollama = await startFakeOllama();
    ollama.mode = "hang";
    const clock = new ManualClock();
    const pinging = ollamaBackend.ping(settings({ kind: "ollama", url: ollama.url }), deps({}, clock), {
      timeoutMs: 5_000,
    });
    await expect
      .poll(() => (ollama?.calls.length ?? 0) === 1, { timeout: 10_000, message: "the request to arrive" })
      .toBeTruthy();
    clock.advance(5_000);
    expect(await pinging).toEqual({ ok: false, reason: "timed out" });
  });

  it("prewarm loads the model with no prompt and a keep_alive", async () => {
    ollama = await startFakeOllama();
    const session = ollamaBackend.prewarm(settings({ kind: "ollama", url: ollama.url, model: "qwen3" }), deps({}), {
      id: "ollama-1",
      ttlMs: 120_000,
    });
    await session.ready;
    expect(ollama.calls).toMatchObject([
      { method: "POST", path: "/api/generate", body: { model: "qwen3", keep_alive: "120s" } },
    ]);
    expect([...ollama.loaded]).toEqual(["qwen3"]);
  });

  it("dispatch streams NDJSON chat chunks until done, sending the earlier turns with the prompt", async () => {
    ollama = await startFakeOllama({ reply: "streamed in parts", chunks: 3 });
    const streamed: string[] = [];
    const result = await ollamaBackend.dispatch(settings({ kind: "ollama", url: ollama.url }), deps({}), {
      prompt: "go",
      history: [
        { role: "user", content: "first" },
        { role: "assistant", content: "echo: first" },
      ],
      onOutput: (text) => streamed.push(text),
      signal: noAbort(),
      timeoutMs: 10_000,
    });
    expect(result).toEqual({
      output: "streamed in parts",
      usage: { costUsd: 0, inputTokens: 40, outputTokens: 12, turns: 1 },
    });
    expect(streamed.length).toBe(3);
    expect(ollama.calls[0]).toMatchObject({
      path: "/api/chat",
      body: {
        model: "llama3.2",
        messages: [
          { role: "user", content: "first" },
          { role: "assistant", content: "echo: first" },
          { role: "user", content: "go" },
        ],
        stream: true,
      },
    });
  });
});
