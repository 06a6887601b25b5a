// Usage, cost and subscription limits in a real hub with fake CLIs: a task's usage summed over
// its steps, the usage document over REST and WebSocket, a rejected rate-limit event making
// claude `limited` (pings do not clear it; it turns cold by itself at the reset, pushed), the
// router's fallback and wait, the 409 for a limited backend asked by name, codex's "usage
// limit" error, and limits and usage surviving a restart. Time is a ManualClock.
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HubError } from "../../client/hub-client.ts";
import { resetTime } from "../../server/router/limit-policy.ts";
import { dayKey, localTimeZone } from "../../server/time-zone.ts";
import { ManualClock } from "../../shared/clock.ts";
import type { UsageDocument } from "../../shared/schemas.ts";
import { fakeCliCalls } from "../fixtures/fake-cli-env.ts";
import { hubClient, makeDataDir } from "../helpers/hub.ts";
import { cleanupRouterHubs, finishedTask, routerHub } from "../helpers/router-hub.ts";

const dataDirs: string[] = [];
afterEach(async () => {
  await cleanupRouterHubs();
  for (const dir of dataDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const CLAUDE_AND_CODEX = { claude: { kind: "claude", preference: 2 }, codex: { kind: "codex", preference: 1 } };

/** A hub whose fake CLIs read their modes from a file the test rewrites between runs. */
async function limitHub(options: {
  modes?: Record<string, string>;
  router?: Record<string, unknown>;
  backends?: Record<string, unknown>;
  clock?: ManualClock;
  dataDir?: string;
}) {
  const dataDir = options.dataDir ?? (await makeDataDir());
  if (!dataDirs.includes(dataDir)) dataDirs.push(dataDir);
  const modeFile = join(dataDir, "fake-modes.json");
  await writeFile(modeFile, JSON.stringify(options.modes ?? {}));
  const clock = options.clock ?? new ManualClock();
  const rig = await routerHub({
    backends: options.backends ?? CLAUDE_AND_CODEX,
    modes: { FAKE_CLI_MODE_FILE: modeFile },
    router: options.router ?? {},
    clock,
    dataDir,
  });
  return {
    ...rig,
    clock,
    dataDir,
    setModes: (modes: Record<string, string>) => writeFile(modeFile, JSON.stringify(modes)),
  };
}

const rejectedFor = (clock: ManualClock, hours: number) => ({
  FAKE_CLAUDE_RATE_LIMIT: "rejected",
  FAKE_CLAUDE_LIMIT_RESETS_AT: String(Math.floor(clock.now() / 1000) + hours * 3600),
});

describe("usage and cost", () => {
  it("a task's usage is summed over its steps, and the usage document counts every run per backend and day", async () => {
    const { hub, client, clock } = await limitHub({ backends: { claude: { kind: "claude" } } });
    const watcher = hubClient(hub, { topics: ["usage"] });
    const pushed: UsageDocument[] = [];
    watcher.on("change", (change) => {
      if (change.topic === "usage" && watcher.usage) pushed.push(watcher.usage);
    });
    await watcher.connect();
    const { taskId } = await client.route({
      description: "Two steps",
      startedFrom: "cli",
      steps: [
        { title: "Gather", prompt: "gather" },
        { title: "Write", prompt: "write" },
      ],
    });
    const task = await finishedTask(hub, taskId);
    expect(task.usage).toEqual({ costUsd: 0.0246, inputTokens: 200, outputTokens: 40, cacheReadTokens: 100, turns: 2 });

    const day = dayKey(clock.now(), localTimeZone());
    const counts = { runs: 2, inputTokens: 200, outputTokens: 40, cacheReadTokens: 100, costUsd: 0.0246, turns: 2 };
    const usage = await client.getUsage();
    expect(usage.backends.claude).toEqual({ total: counts, days: { [day]: counts } });
    expect(usage.total).toEqual(counts);
    // Pushed live: the subscriber's mirror holds what REST answers, with no poll.
    await expect
      .poll(() => pushed.at(-1)?.total.runs === 2, { timeout: 5000, message: "the usage patch" })
      .toBeTruthy();
    expect(watcher.usage).toEqual(usage);
    watcher.close();
  });

  it("codex's turn.completed usage is counted (no cost), and a failed claude run still counts its cost", async () => {
    const clock = new ManualClock();
    const { hub, client } = await limitHub({ clock, router: { retryOnFailure: true } });
    const { taskId } = await client.route({ description: "On codex", startedFrom: "cli", backend: "codex" });
    expect((await finishedTask(hub, taskId)).usage).toEqual({
      costUsd: 0,
      inputTokens: 100,
      outputTokens: 30,
      cacheReadTokens: 20,
      turns: 1,
    });
    const usage = await client.getUsage();
    expect(usage.backends.codex?.total).toMatchObject({ runs: 1, costUsd: 0, inputTokens: 100, outputTokens: 30 });
  });
});

describe("limits", () => {
  it("a rejected rate-limit event makes claude limited until the reset, naming the window; pings do not clear it; at the reset it is cold by itself, pushed live", async () => {
    const clock = new ManualClock();
    const { hub, client, setModes } = await limitHub({ clock, modes: rejectedFor(clock, 2) });
    const watcher = hubClient(hub);
    const statuses: string[] = [];
    watcher.on("health-changed", (event) => {
      if (event.backend === "claude") statuses.push(event.entry.status);
    });
    await watcher.connect();
    const { taskId } = await client.route({ description: "Summarise", startedFrom: "cli" });
    const task = await finishedTask(hub, taskId);

    const until = new Date(clock.now() + 2 * HOUR).toISOString();
    expect(hub.warmStandby.getHealth("claude")).toMatchObject({
      status: "limited",
      limitedUntil: until,
      limitReason: "five-hour limit reached",
    });
    // fallback (the default): the task ran on codex and says why.
    expect(task).toMatchObject({ status: "complete", backend: "codex" });
    const at = resetTime(clock.now() + 2 * HOUR, clock.now(), localTimeZone());
    expect(task.backendReason).toContain(`Claude is limited until ${at}; continuing on codex`);

    await setModes({});
    await hub.warmStandby.pingNow("claude");
    expect(hub.warmStandby.getHealth("claude")).toMatchObject({ status: "limited", consecutiveFailures: 0 });

    clock.advance(2 * HOUR - 1);
    expect(hub.warmStandby.getHealth("claude").status).toBe("limited");
    clock.advance(1);
    expect(hub.warmStandby.getHealth("claude").status).toBe("cold");
    // Pushed: the subscriber sees limited, then cold (pings that ran meanwhile may add entries).
    await expect
      .poll(() => statuses.includes("limited") && statuses.lastIndexOf("cold") > statuses.indexOf("limited"), {
        timeout: 15_000,
        message: "the pushed return to cold",
      })
      .toBeTruthy();
    watcher.close();
  });

  it("an explicitly requested limited backend is refused with 409 and the time; nothing is added", async () => {
    const clock = new ManualClock();
    const { hub, client } = await limitHub({ clock, modes: rejectedFor(clock, 3) });
    const { taskId } = await client.route({ description: "Trips the limit", startedFrom: "cli" });
    await finishedTask(hub, taskId);
    const before = hub.taskContext.getContext();
    const error = await client.route({ description: "Wants claude", startedFrom: "cli", backend: "claude" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).status).toBe(409);
    expect((error as HubError).message).toContain(
      `backend claude is limited until ${new Date(clock.now() + 3 * HOUR).toISOString()} (five-hour limit reached)`,
    );
    expect(hub.taskContext.getContext()).toEqual(before);
  });

  it('router.onRateLimit "wait": the task stays queued on claude until the reset, then runs there', async () => {
    const clock = new ManualClock();
    const { hub, client, log, setModes } = await limitHub({
      clock,
      modes: rejectedFor(clock, 1),
      router: { onRateLimit: "wait" },
    });
    const { taskId } = await client.route({ description: "Patient", startedFrom: "cli" });
    const at = resetTime(clock.now() + HOUR, clock.now(), localTimeZone());
    await expect
      .poll(
        () => hub.taskContext.getActiveTask(taskId)?.lastUpdate === `Claude is limited until ${at}; waiting for it`,
        { timeout: 15_000, message: "the task to wait" },
      )
      .toBeTruthy();
    expect(hub.taskContext.getActiveTask(taskId)).toMatchObject({ status: "queued", backend: "claude" });
    // Its estimated start is the reset.
    await expect
      .poll(() => hub.router.dispatchEstimates().claude?.length === 1, {
        timeout: 5000,
        message: "the task back in its queue",
      })
      .toBeTruthy();
    expect(hub.router.dispatchEstimates().claude).toEqual([{ taskId, at: clock.now() + HOUR }]);
    await setModes({});
    const runsBefore = (await fakeCliCalls(log)).filter((c) => c.argv.includes("--input-format")).length;
    clock.advance(HOUR);
    const task = await finishedTask(hub, taskId);
    expect(task).toMatchObject({ status: "complete", backend: "claude", result: "echo: Patient" });
    const runs = (await fakeCliCalls(log)).filter((c) => c.argv.includes("--input-format") || c.argv[0] === "exec");
    expect(runs.length).toBe(runsBefore + 1);
    expect(runs.every((c) => c.name === "claude")).toBe(true);
  });

  it('codex\'s "usage limit" error limits it until the time the message gives', async () => {
    const clock = new ManualClock();
    const { hub, client } = await limitHub({
      clock,
      modes: { FAKE_CODEX_RATE_LIMIT: "rejected" },
      router: { limitBackoffMs: 5 * HOUR },
    });
    const { taskId } = await client.route({ description: "Code it", startedFrom: "cli", backend: "codex" });
    const task = await finishedTask(hub, taskId);
    // "try again in 2 hours": the message's time, not the 5-hour backoff.
    expect(hub.warmStandby.getHealth("codex")).toMatchObject({
      status: "limited",
      limitedUntil: new Date(clock.now() + 2 * HOUR).toISOString(),
      limitReason: "usage limit reached",
    });
    expect(task).toMatchObject({ status: "complete", backend: "claude" });
  });

  it("a codex limit message with no time rests it for router.limitBackoffMs", async () => {
    const clock = new ManualClock();
    const { hub, client } = await limitHub({
      clock,
      modes: { FAKE_CODEX_RATE_LIMIT: "rejected", FAKE_CODEX_LIMIT_MESSAGE: "You've hit your usage limit." },
      router: { limitBackoffMs: 5 * HOUR },
    });
    const { taskId } = await client.route({ description: "Code it", startedFrom: "cli", backend: "codex" });
    await finishedTask(hub, taskId);
    expect(hub.warmStandby.getHealth("codex").limitedUntil).toBe(new Date(clock.now() + 5 * HOUR).toISOString());
  });

  it("allowed_warning keeps claude usable and records the warning with its utilization", async () => {
    const clock = new ManualClock();
    const { hub, client } = await limitHub({ clock, modes: { FAKE_CLAUDE_RATE_LIMIT: "warning" } });
    const { taskId } = await client.route({ description: "Close to the edge", startedFrom: "cli" });
    expect(await finishedTask(hub, taskId)).toMatchObject({ status: "complete", backend: "claude" });
    const entry = hub.warmStandby.getHealth("claude");
    expect(entry.status).not.toBe("limited");
    expect(entry.limitWarning).toMatchObject({ window: "five_hour", utilization: 0.9 });
  });
});

describe("restart", () => {
  it("a limit and the usage survive a restart; the limit still ends by itself", async () => {
    const clock = new ManualClock();
    const dataDir = await makeDataDir();
    const first = await limitHub({ clock, dataDir, modes: rejectedFor(clock, 2) });
    const { taskId } = await first.client.route({ description: "Before the restart", startedFrom: "cli" });
    await finishedTask(first.hub, taskId);
    const usage = await first.client.getUsage();
    expect(usage.total.runs).toBe(2); // the refused claude run and the codex run
    await cleanupRouterHubs();

    const second = await limitHub({ clock, dataDir });
    expect(second.hub.warmStandby.getHealth("claude")).toMatchObject({
      status: "limited",
      limitedUntil: new Date(clock.now() + 2 * HOUR).toISOString(),
    });
    expect(await second.client.getUsage()).toMatchObject({ backends: usage.backends, total: usage.total });
    clock.advance(2 * HOUR);
    expect(second.hub.warmStandby.getHealth("claude").status).toBe("cold");
  });
});
