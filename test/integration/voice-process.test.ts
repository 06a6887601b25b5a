// The voice channel as a real process: `npm run voice` on its own, and started by the hub's entry
// point when config.json enables it; both serve GET /status → {"text": …} from the live mirror.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { HUB_ENTRY, nodeArgs } from "../helpers/entry.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";

const ROOT = join(import.meta.dirname, "..", "..");

interface Child {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** Resolves with the first match of `pattern` in stdout. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  stop(): Promise<number | null>;
}

const children: Child[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) await child.stop();
});

function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [...nodeArgs(script), ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SWITCHBOARD_TOKEN: "", ...env },
  });
  let out = "";
  let err = "";
  const waiters: (() => void)[] = [];
  child.stdout?.on("data", (chunk) => {
    out += String(chunk);
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr?.on("data", (chunk) => {
    err += String(chunk);
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const handle: Child = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitFor(pattern, ms = 15_000) {
      const started = Date.now();
      for (;;) {
        const match = pattern.exec(out);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ${pattern}: ${err}`);
        if (Date.now() - started > ms) throw new Error(`no ${pattern} within ${ms} ms: ${out} ${err}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-(child.pid as number), "SIGTERM");
        } catch {
          // Already gone.
        }
      }
      return exited;
    },
  };
  children.push(handle);
  return handle;
}

async function status(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/status`, { headers });
  return { status: response.status, body: await response.json() };
}

/** Polls GET /status until its text matches (the channel connects to the hub on its own time). */
async function statusUntil(url: string, pattern: RegExp, headers: Record<string, string> = {}): Promise<string> {
  let text = "";
  await expect
    .poll(
      async () => {
        text = ((await status(url, headers)).body as { text?: string }).text ?? "";
        return pattern.test(text);
      },
      { message: `GET /status matching ${pattern}` },
    )
    .toBeTruthy();
  return text;
}

let hub: TestHub | null = null;
afterEach(async () => {
  await hub?.stop();
  hub = null;
});

describe("npm run voice", () => {
  test("prints where it listens and serves GET /status with the sentence from its live mirror", async () => {
    hub = await startTestHub();
    const voice = run("client/voice/main.ts", ["--hub", hub.url, "--port", "0", "--tts", "none"]);
    const [, url] = await voice.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    await voice.waitFor(/connected to the hub/);
    expect(await status(url as string)).toEqual({ status: 200, body: { text: "Nothing is running." } });

    await hub.taskContext.addTask({ taskId: "ocr", description: "OCR", startedFrom: "voice", progress: 0.6 });
    expect(await statusUntil(url as string, /OCR/)).toBe("Your OCR task is 60% done.");
    // Answering marked the voice channel active.
    await expect
      .poll(() => hub?.taskContext.getChannelState("voice").lastTaskId === "ocr", {
        timeout: 5000,
        message: "voice marked active",
      })
      .toBeTruthy();

    const other = await fetch(`${url}/elsewhere`);
    expect(other.status).toBe(404);
    expect(await voice.stop()).toBe(0);
  });

  test("with SWITCHBOARD_TOKEN it reaches a guarded hub, and /status asks callers for the same token", async () => {
    hub = await startTestHub({ token: "s3cret-token" });
    const voice = run("client/voice/main.ts", ["--hub", hub.url, "--port", "0", "--tts", "none"], {
      SWITCHBOARD_TOKEN: "s3cret-token",
    });
    const [, url] = await voice.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    await voice.waitFor(/connected to the hub/);
    const refused = await status(url as string);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      error: { code: "unauthorized", message: "send the token as Authorization: Bearer <token> or ?token=<token>" },
    });
    expect(await status(url as string, { authorization: "Bearer s3cret-token" })).toEqual({
      status: 200,
      body: { text: "Nothing is running." },
    });
  });

  test.each([
    [["--port", "99999"], "--port must be a port number from 0 to 65535"],
    [["--hub", "ftp://x"], "--hub must be an http:// or https:// URL"],
    [["--bogus"], "Unknown option '--bogus'"],
  ])("bad usage %j exits 2 and says what was wrong", async (args, message) => {
    const voice = run("client/voice/main.ts", args);
    expect(await voice.exited).toBe(2);
    expect(voice.stderr()).toContain(message);
    expect(voice.stderr()).toContain("Usage: npm run voice");
  });

  test("--help prints the usage and exits 0", async () => {
    const voice = run("client/voice/main.ts", ["--help"]);
    expect(await voice.exited).toBe(0);
    expect(voice.stdout()).toContain("Usage: npm run voice -- --hub URL");
  });
});

describe("started by the hub's entry point", () => {
  test("config.json voice.enabled starts the voice channel next to the hub", async () => {
    const dir = await mkdtemp(join(tmpdir(), "switchboard-voice-config-"));
    const configPath = join(dir, "config.json");
    await writeFile(
      configPath,
      JSON.stringify({
        port: 0,
        logLevel: "silent",
        backends: {},
        voice: { enabled: true, port: 0, tts: { command: "none" } },
      }),
    );
    const main = run(HUB_ENTRY, ["--config", configPath]);
    const [, url] = await main.waitFor(/voice channel listening on (http:\/\/127\.0\.0\.1:\d+)/);
    expect(await statusUntil(url as string, /Nothing is running/)).toBe("Nothing is running.");
    expect(await main.stop()).toBe(0);
  });
});
