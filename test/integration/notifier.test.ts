// The notifiers of config `notify`: OpenClaw's `system event --text … --mode now` and general
// commands with placeholders, run on a real hub's task and backend events through the fake
// `openclaw` in test/fixtures/bin, which records its argv; a missing, failing or hanging command
// is logged once and never holds up a task.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  commandArgs,
  healthNotification,
  type NotifySettings,
  notifyCommands,
  progressNotification,
} from "../../client/notify/notifications.ts";
import { type Notifier, startNotifier } from "../../client/notify/notifier.ts";
import { emptyEntry } from "../../server/backends/health-entry.ts";
import { parseConfig } from "../../server/config.ts";
import type { BackendHealth, Task } from "../../shared/schemas.ts";
import { startTestHub, type TestHub } from "../helpers/hub.ts";

const FAKE_OPENCLAW = join(import.meta.dirname, "..", "fixtures", "bin", "openclaw");

let hub: TestHub;
let notifier: Notifier | null = null;
let dir: string;
let logFile: string;
let logged: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-notify-"));
  logFile = join(dir, "openclaw.log");
  process.env.FAKE_OPENCLAW_LOG = logFile;
  delete process.env.FAKE_OPENCLAW_MODE;
  logged = [];
  hub = await startTestHub();
});

afterEach(async () => {
  await notifier?.close();
  notifier = null;
  await hub.stop();
  await rm(dir, { recursive: true, force: true });
});

const runs = async (): Promise<{ argv: string[]; pid: number }[]> =>
  (await readFile(logFile, "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));

async function start(notify: Record<string, unknown>): Promise<Notifier> {
  const settings = parseConfig({ notify }).notify;
  const started = await startNotifier({
    hubUrl: hub.url,
    token: null,
    settings,
    log: (message) => logged.push(message),
  });
  if (!started) throw new Error("expected a notifier");
  notifier = started;
  return started;
}

const addTask = (taskId: string, description: string) =>
  hub.taskContext.addTask({ taskId, description, startedFrom: "cli" });

describe("the OpenClaw notifier", () => {
  it("runs `openclaw system event --text <sentence> --mode now` for complete, failed and pending-approval, the sentence as one argument", async () => {
    const running = await start({ openclaw: { enabled: true, command: FAKE_OPENCLAW } });
    await addTask("t1", "OCR");
    await addTask("t2", "Nightly backup");
    await addTask("t3", "Deploy the site");
    await hub.taskContext.completeTask("t1", { outputPath: "artifacts/ocr.md" });
    await hub.taskContext.completeTask("t2", { error: "disk full" });
    await hub.taskContext.updateTask("t3", { status: "pending-approval", lastUpdate: "waiting" });
    await hub.taskContext.updateTask("t3", { lastUpdate: "still waiting" });
    await vi.waitFor(async () => expect(await runs()).toHaveLength(3));
    await running.settled();
    const argvs = (await runs()).map((run) => run.argv);
    expect(argvs).toEqual(
      expect.arrayContaining([
        ["system", "event", "--text", "Your OCR task finished; the output is in artifacts/ocr.md", "--mode", "now"],
        ["system", "event", "--text", "Your nightly backup task failed: disk full", "--mode", "now"],
        ["system", "event", "--text", "Your task “Deploy the site” is waiting for your approval", "--mode", "now"],
      ]),
    );
    expect(logged).toEqual([]);
  });

  it("runs only for the events it lists", async () => {
    const running = await start({ openclaw: { enabled: true, command: FAKE_OPENCLAW, events: ["failed"] } });
    await addTask("t1", "OCR");
    await addTask("t2", "Backup");
    await hub.taskContext.completeTask("t1");
    await hub.taskContext.completeTask("t2", { status: "failed", error: "boom" });
    await vi.waitFor(async () => expect(await runs()).toHaveLength(1));
    await running.settled();
    expect((await runs())[0]?.argv[3]).toBe("Your backup task failed: boom");
  });

  it("is off unless enabled: no notifier runs", async () => {
    expect(
      await startNotifier({ hubUrl: hub.url, token: null, settings: parseConfig({}).notify, log: () => {} }),
    ).toBeNull();
  });

  it("a missing command is logged once, and every task still finishes", async () => {
    const running = await start({ openclaw: { enabled: true, command: join(dir, "no-such-openclaw") } });
    for (const id of ["t1", "t2", "t3"]) {
      await addTask(id, "OCR");
      await hub.taskContext.completeTask(id);
    }
    await vi.waitFor(() => expect(logged).toHaveLength(1));
    await running.settled();
    expect(logged).toEqual([
      `notify: ${join(dir, "no-such-openclaw")} was not found on PATH; install it or set its command in config.json notify (further failures like this one are not logged)`,
    ]);
    expect(hub.taskContext.getContext().recentCompleted.map((t) => t.status)).toEqual([
      "complete",
      "complete",
      "complete",
    ]);
  });

  it("a failing command is logged once with its exit status and stderr", async () => {
    process.env.FAKE_OPENCLAW_MODE = "fail";
    const running = await start({ openclaw: { enabled: true, command: FAKE_OPENCLAW } });
    for (const id of ["t1", "t2"]) {
      await addTask(id, "OCR");
      await hub.taskContext.completeTask(id);
    }
    await vi.waitFor(async () => expect(await runs()).toHaveLength(2));
    await running.settled();
    expect(logged).toEqual([
      `notify: ${FAKE_OPENCLAW} exited with 3: openclaw: gateway not running (further failures like this one are not logged)`,
    ]);
  });

  it("a command that hangs is stopped at its timeout, and the task is finished long before", async () => {
    process.env.FAKE_OPENCLAW_MODE = "hang";
    const running = await start({ openclaw: { enabled: true, command: FAKE_OPENCLAW, timeoutMs: 300 } });
    await addTask("t1", "OCR");
    const finished = await hub.taskContext.completeTask("t1");
    expect(finished.status).toBe("complete");
    await vi.waitFor(() => expect(logged).toHaveLength(1), { timeout: 10_000 });
    await running.settled();
    expect(logged[0]).toBe(
      `notify: ${FAKE_OPENCLAW} did not finish within 300 ms; it was stopped (further failures like this one are not logged)`,
    );
    const [run] = await runs();
    expect(() => process.kill(run?.pid as number, 0)).toThrow();
  });
});

describe("notify.commands: any other notifier", () => {
  it("replaces {text}, {taskId} and {status} inside its arguments, with no shell", async () => {
    const running = await start({
      commands: [
        {
          command: FAKE_OPENCLAW,
          args: ["notify", "--id={taskId}", "{status}", "{text}", "$HOME; rm -rf /"],
          events: ["complete"],
        },
      ],
    });
    await addTask("t1", "OCR");
    await hub.taskContext.completeTask("t1");
    await vi.waitFor(async () => expect(await runs()).toHaveLength(1));
    await running.settled();
    expect((await runs())[0]?.argv).toEqual([
      "notify",
      "--id=t1",
      "complete",
      "Your OCR task finished",
      "$HOME; rm -rf /",
    ]);
  });
});

describe("the pure parts", () => {
  const settings: NotifySettings = parseConfig({
    notify: { openclaw: { enabled: true }, commands: [{ command: "ntfy", args: ["{text}"] }] },
  }).notify;

  it("OpenClaw comes first, as `openclaw system event --text {text} --mode now`, then the general commands", () => {
    expect(notifyCommands(settings).map((c) => [c.command, ...c.args])).toEqual([
      ["openclaw", "system", "event", "--text", "{text}", "--mode", "now"],
      ["ntfy", "{text}"],
    ]);
    expect(notifyCommands(settings)[0]?.events).toEqual(["complete", "failed", "pending-approval", "limited"]);
  });

  it("a backend becoming limited is one notification; staying limited or another status is none", () => {
    const entry = (status: string): BackendHealth => ({ ...emptyEntry("claude"), status }) as BackendHealth;
    const now = Date.parse("2026-01-01T09:00:00.000Z");
    expect(
      healthNotification({ backend: "claude", entry: entry("limited"), previous: entry("warm") }, now),
    ).toMatchObject({
      event: "limited",
      status: "limited",
      taskId: "",
      text: expect.stringMatching(/^Claude is (limited|resting)/i),
    });
    expect(
      healthNotification({ backend: "claude", entry: entry("limited"), previous: entry("limited") }, now),
    ).toBeNull();
    expect(healthNotification({ backend: "claude", entry: entry("dead"), previous: entry("warm") }, now)).toBeNull();
  });

  it("a task entering pending-approval is one notification; progress while waiting is none", () => {
    const task = {
      taskId: "t1",
      description: "OCR",
      status: "pending-approval",
      plan: { steps: [] },
    } as unknown as Task;
    expect(progressNotification({ task, previous: { ...task, status: "running" } }, 0)?.event).toBe("pending-approval");
    expect(progressNotification({ task, previous: task }, 0)).toBeNull();
    expect(
      commandArgs(
        { command: "x", args: ["{taskId}:{status}"], events: [], timeoutMs: 1 },
        {
          event: "pending-approval",
          text: "t",
          taskId: "t1",
          status: "pending-approval",
          key: "t1:pending-approval:1:2026-01-01T00:00:00.000Z",
        },
      ),
    ).toEqual(["t1:pending-approval"]);
  });
});
