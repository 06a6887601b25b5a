// A real hub with the built-in router, fake claude/codex CLIs on PATH and a temporary artifacts
// directory; `cleanupRouterHubs()` in afterEach closes every hub and removes its directories.

import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, vi } from "vitest";
import { type HubClient, HubError } from "../../client/hub-client.ts";
import type { StartHubOptions } from "../../server/start.ts";
import type { ManualClock } from "../../shared/clock.ts";
import type { Task } from "../../shared/schemas.ts";
import { fakeCliCalls, fakeCliEnv } from "../fixtures/fake-cli-env.ts";
import { hubClient, startTestHub, type TestHub } from "./hub.ts";

const hubs: TestHub[] = [];
const clients: HubClient[] = [];
const dirs: string[] = [];

export interface RouterHubOptions {
  backends?: Record<string, unknown>;
  /** Fake CLI modes (FAKE_CLI_*, or FAKE_CLAUDE_* / FAKE_CODEX_* for one of them). */
  modes?: Record<string, string>;
  router?: Record<string, unknown>;
  /** config.json's `workspaces`. */
  workspaces?: Record<string, unknown>;
  warmup?: Record<string, unknown>;
  /** The config's `context` section (recentLimit). */
  context?: Record<string, unknown>;
  /** A data directory to reuse (a restart); kept after the hub stops. */
  dataDir?: string;
  /** An artifacts directory to reuse; by default a fresh one. */
  artifactsDir?: string;
  /** Wait for every backend's first ping before returning (default true). */
  waitForPings?: boolean;
  /** A hand-driven clock for the hub; its first pings are fired here. */
  clock?: ManualClock;
  /** Extra routes mounted on the hub (the Slack endpoint). */
  plugins?: StartHubOptions["plugins"];
  /** The hub's SWITCHBOARD_TOKEN; the returned client sends it. */
  token?: string;
}

export async function routerHub(options: RouterHubOptions = {}) {
  const artifactsDir = options.artifactsDir ?? (await mkdtemp(join(tmpdir(), "switchboard-artifacts-")));
  if (!options.artifactsDir) dirs.push(artifactsDir);
  const { env, log } = await fakeCliEnv(options.modes ?? {});
  const hub = await startTestHub({
    config: {
      backends: options.backends ?? { claude: { kind: "claude" } },
      router: { artifactsDir, ...options.router },
      ...(options.warmup ? { warmup: options.warmup } : {}),
      ...(options.workspaces ? { workspaces: options.workspaces } : {}),
      ...(options.context ? { context: options.context } : {}),
    },
    backendEnv: env,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.token ? { token: options.token } : {}),
  });
  hubs.push(hub);
  const client = hubClient(hub, { channel: "telegram", ...(options.token ? { token: options.token } : {}) });
  clients.push(client);
  if (options.waitForPings !== false) {
    options.clock?.advance(0);
    // Every backend's status is known before a task is routed.
    // vi.waitFor, not expect.poll: suites call this from their hooks too.
    await vi.waitFor(
      () => {
        const pinged = Object.keys(hub.warmStandby.backends).every(
          (name) => hub.warmStandby.getHealth(name).lastPing !== null,
        );
        expect(pinged, "first pings").toBe(true);
      },
      { timeout: 10_000, interval: 10 },
    );
  }
  return { hub, client, log, artifactsDir };
}

export async function cleanupRouterHubs(): Promise<void> {
  for (const client of clients.splice(0)) client.close();
  for (const hub of hubs.splice(0)) await hub.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** Every task the hub holds: the active ones, then the recently finished. */
export const allTasks = (hub: TestHub): Task[] => [
  ...hub.taskContext.getContext().activeTasks,
  ...hub.taskContext.getContext().recentCompleted,
];

/** Waits until the task is among the recently finished, and returns it as finished. */
export async function finishedTask(hub: TestHub, taskId: string, ms = 20_000): Promise<Task> {
  const find = () => hub.taskContext.getContext().recentCompleted.find((t) => t.taskId === taskId);
  await expect.poll(() => find() !== undefined, { timeout: ms, message: `${taskId} to finish` }).toBeTruthy();
  return find() as Task;
}

/** Waits until the task waits on a call of `tool` (the fake claude asks for it), and gives that call's approval id. */
export async function toolWaiting(hub: TestHub, taskId: string, tool: string, ms = 20_000): Promise<string> {
  const waiting = () => hub.taskContext.getActiveTask(taskId)?.awaitingApproval;
  await expect.poll(() => waiting()?.tool === tool, { timeout: ms, message: `the ${tool} approval` }).toBeTruthy();
  return waiting()?.id as string;
}

/** The fake CLIs' runs of a task (claude in stream-json mode, codex exec), not their pings. */
export const runCalls = async (log: string) =>
  (await fakeCliCalls(log)).filter((c) => c.argv.includes("--input-format") || c.argv[0] === "exec");

/** The HubError an SDK call is refused with (fails the test when the call succeeds). */
export async function refusal(action: Promise<unknown>): Promise<HubError> {
  const error = await action.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubError);
  return error as HubError;
}

/** An empty folder named `name` for a workspace (in a new temporary parent); removed by cleanupRouterHubs. */
export async function workspaceFolder(name: string): Promise<string> {
  const parent = await realpath(await mkdtemp(join(tmpdir(), "switchboard-workspace-")));
  dirs.push(parent);
  const path = join(parent, name);
  await mkdir(path);
  return path;
}

/** A folder `repo` holding notes.txt ("one\ntwo\nthree\n") for a workspace; removed by cleanupRouterHubs. */
export async function repository(): Promise<string> {
  const parent = await realpath(await mkdtemp(join(tmpdir(), "switchboard-repo-")));
  dirs.push(parent);
  const path = join(parent, "repo");
  await mkdir(path);
  await writeFile(join(path, "notes.txt"), "one\ntwo\nthree\n");
  return path;
}
