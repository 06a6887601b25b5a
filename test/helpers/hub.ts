// Starts a real hub on a random loopback port with its data in a fresh temp directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeHubClient, type NodeHubClientOptions } from "../../client/node-hub-client.ts";
import { type Config, parseConfig } from "../../server/config.ts";
import { silentLogger } from "../../server/log.ts";
import { type RunningHub, type StartHubOptions, startHub } from "../../server/start.ts";

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface TestHub extends RunningHub {
  dataDir: string;
  config: Config;
  /** Closes the hub and removes its data directory. */
  stop(): Promise<void>;
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "switchboard-test-"));
}

/**
 * A config for a test hub. It configures no backends unless the test does, so the warm standby
 * never pings whatever `claude` or `codex` happens to be on this machine's PATH behind a test's
 * back, and pings the ones it does configure at once (`warmup.firstPingDelayMs` 0).
 */
export function testConfig(overrides: Record<string, unknown> = {}, dataDir = "data"): Config {
  const warmup = { firstPingDelayMs: 0, ...(overrides.warmup as Record<string, unknown> | undefined) };
  return parseConfig({ port: 0, dataDir, logLevel: "silent", backends: {}, ...overrides, warmup });
}

export async function startTestHub(
  options: {
    config?: Record<string, unknown>;
    token?: string | null;
    dataDir?: string;
    keepData?: boolean;
  } & Partial<Pick<StartHubOptions, "plugins" | "clock" | "backendEnv">> = {},
): Promise<TestHub> {
  const dataDir = options.dataDir ?? (await makeDataDir());
  const config = testConfig(options.config, dataDir);
  const running = await startHub({
    config,
    secrets: { token: options.token ?? null },
    logger: silentLogger,
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.backendEnv ? { backendEnv: options.backendEnv } : {}),
  });
  return {
    ...running,
    dataDir,
    config,
    async stop() {
      await running.close();
      if (!options.keepData && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function hubClient(hub: { url: string }, options: Partial<NodeHubClientOptions> = {}) {
  return createNodeHubClient({ url: hub.url, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, ...options });
}
