// The entry point as a real child process, as `npm start` runs it (the bundle): a bad config
// stops it with one line and status 2; a good one prints where it listens and works end to end
// with every bundled part; a public address without a token is refused.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeCliEnv } from "../fixtures/fake-cli-env.ts";
import { startFakeOllama } from "../fixtures/fake-ollama.ts";
import { cleanEnv, HUB_ENTRY, nodeArgs, runToExit } from "../helpers/entry.ts";
import { hubClient } from "../helpers/hub.ts";

const ROOT = join(import.meta.dirname, "..", "..");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-entry-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withConfig(text: string): Promise<string> {
  const path = join(dir, "config.json");
  await writeFile(path, text);
  return path;
}

describe("npm start with a bad config.json", () => {
  it.each([
    ["invalid JSON", '{\n  "port": 7433,\n  "host": \n}\n', /config\.json: is not valid JSON/],
    ["an unknown key", '{ "prot": 7433 }', /config\.json: unknown key "prot"/],
    ["a wrong type", '{ "port": "seven" }', /config\.json: port must be a port number from 0 to 65535 \(got "seven"\)/],
    [
      "a negative interval",
      '{ "warmup": { "intervalMs": -1 } }',
      /config\.json: warmup\.intervalMs must be a positive integer \(got -1\)/,
    ],
    [
      "a workspace folder that does not exist",
      '{ "workspaces": { "site": { "path": "no-such-folder" } } }',
      /config\.json: workspaces\.site\.path \/.*\/no-such-folder does not exist; create the folder or fix the path/,
    ],
    [
      "a default workspace that is not configured",
      '{ "router": { "defaultWorkspace": "site" } }',
      /config\.json: router\.defaultWorkspace names "site", which is not in workspaces \(none is configured\)/,
    ],
  ])("stops on %s with exit status 2 and one line, no stack trace", async (_, text, message) => {
    const result = await runToExit(HUB_ENTRY, ["--config", await withConfig(text), "--data-dir", dir]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^switchboard: /);
    expect(lines[0]).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("stops on a bad --port with exit status 2 and one line", async () => {
    const result = await runToExit(HUB_ENTRY, ["--port", "http", "--data-dir", dir]);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      'switchboard: --port must be a port number from 0 to 65535 (got "http")',
    ]);
  });
});

describe("npm start with a data directory it cannot use", () => {
  it("stops with exit status 2 and one line naming the directory and what to do", async () => {
    await writeFile(join(dir, "a-file"), "");
    const dataDir = join(dir, "a-file", "data");
    const config = await withConfig(JSON.stringify({ backends: {} }));
    const result = await runToExit(HUB_ENTRY, ["--config", config, "--port", "0", "--data-dir", dataDir]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^switchboard: cannot use the data directory ${dataDir}: ENOTDIR.*Point --data-dir .* at a writable directory\\.$`,
      ),
    );
  });
});

describe("npm start with a good config", () => {
  it("prints a line with listening on http://127.0.0.1:PORT for --port 0, serves /healthz there and exits 0 on SIGTERM", async () => {
    const config = await withConfig(JSON.stringify({ backends: {}, logLevel: "warn" }));
    const child = spawn(
      process.execPath,
      [...nodeArgs(HUB_ENTRY), "--config", config, "--port", "0", "--data-dir", dir],
      {
        cwd: ROOT,
        env: cleanEnv(),
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = once(child, "exit");
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = "";
        child.stdout.on("data", (chunk) => {
          stdout += String(chunk);
          const match = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(stdout);
          if (match) resolve(match[1] as string);
        });
        child.once("exit", (code) => reject(new Error(`exited with ${code} before listening`)));
      });
      expect(Number(new URL(url).port)).toBeGreaterThan(0);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      child.kill("SIGTERM");
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  it("serves the dashboard, pushes live over WebSocket, runs a routed task on a CLI backend, pings Ollama, and warns of nothing", async () => {
    const ollama = await startFakeOllama({ models: ["llama3.2"] });
    const { env } = await fakeCliEnv();
    const config = await withConfig(
      JSON.stringify({
        logLevel: "warn",
        backends: { claude: { kind: "claude" }, ollama: { kind: "ollama", url: ollama.url, model: "llama3.2" } },
        router: { artifactsDir: join(dir, "artifacts") },
      }),
    );
    const child = spawn(
      process.execPath,
      [...nodeArgs(HUB_ENTRY), "--config", config, "--port", "0", "--data-dir", dir],
      {
        cwd: ROOT,
        env: { ...cleanEnv(), ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const exited = once(child, "exit");
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = "";
      child.stdout.on("data", (chunk) => {
        stdout += String(chunk);
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (match) resolve(match[1] as string);
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code} before listening`)));
    });
    const client = hubClient({ url });
    try {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<title>");

      await client.connect();
      await expect
        .poll(
          () => client.health?.backends.ollama?.status === "warm" && client.health.backends.claude?.status === "warm",
          { timeout: 10_000, message: "both backends pinged warm" },
        )
        .toBeTruthy();
      expect(client.health?.backends.claude?.version).toMatch(/\d+\.\d+/);

      const routed = await fetch(`${url}/api/route`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ description: "Summarise the notes", startedFrom: "cli", backend: "claude" }),
      });
      expect(routed.status).toBe(202);
      const { taskId } = (await routed.json()) as { taskId: string };
      await expect
        .poll(() => client.context?.recentCompleted.some((t) => t.taskId === taskId) === true, {
          timeout: 10_000,
          message: "the routed task to finish",
        })
        .toBeTruthy();
      expect(client.context?.recentCompleted.find((t) => t.taskId === taskId)).toMatchObject({
        status: "complete",
        backend: "claude",
      });
      child.kill("SIGTERM");
      const [code] = await exited;
      expect(code).toBe(0);
      // Node 22+ warns about deprecated modules its dependencies use (punycode); the bundle must not.
      expect(stderr).not.toMatch(/Warning/);
    } finally {
      client.close();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await ollama.close();
    }
  });

  it("stops on a --host that does not resolve with exit status 2 and one line naming it, no stack trace", async () => {
    const config = await withConfig(JSON.stringify({ backends: {} }));
    const result = await runToExit(HUB_ENTRY, [
      "--config",
      config,
      "--host",
      "no-such-host.invalid",
      "--port",
      "0",
      "--data-dir",
      dir,
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^switchboard: cannot resolve the host "no-such-host\.invalid"/);
  });

  it("refuses to listen on a non-loopback address without SWITCHBOARD_TOKEN, with exit status 2 and one line", async () => {
    const config = await withConfig(JSON.stringify({ backends: {} }));
    const result = await runToExit(HUB_ENTRY, [
      "--config",
      config,
      "--host",
      "0.0.0.0",
      "--port",
      "0",
      "--data-dir",
      dir,
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      "switchboard: refusing to listen on 0.0.0.0 without a token: set SWITCHBOARD_TOKEN, or use host 127.0.0.1",
    ]);
  });
});
