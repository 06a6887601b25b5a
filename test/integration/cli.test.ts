// `switchboard` as a child process (through its bin shim) against a real hub: each command's
// output and exit status — 0 done, 1 refused by the hub (its message printed), 2 bad usage.
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fakeCliEnv } from "../fixtures/fake-cli-env.ts";
import { runCli } from "../helpers/cli.ts";
import { makeDataDir, startTestHub, type TestHub } from "../helpers/hub.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "client", "cli", "bin.js");
const cli = runCli;

/** A loopback URL where nothing listens: a port just taken and released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

let hub: TestHub;
let artifactsDir: string;
let at: string[];
beforeAll(async () => {
  const fakes = await fakeCliEnv();
  // Routed tasks write their output here, not into the checkout's artifacts/.
  artifactsDir = await mkdtemp(join(tmpdir(), "switchboard-cli-artifacts-"));
  hub = await startTestHub({
    config: { backends: { claude: { kind: "claude" } }, router: { artifactsDir } },
    backendEnv: fakes.env,
  });
  at = ["--hub", hub.url];
});
afterAll(async () => {
  await hub.stop();
  await rm(artifactsDir, { recursive: true, force: true });
});

describe("status", () => {
  test("prints the summary, each active task, the last finished one and the backends, exit 0, and marks cli active", async () => {
    await hub.taskContext.addTask({ taskId: "st-ocr", description: "OCR", startedFrom: "voice", progress: 0.6 });
    await hub.taskContext.addTask({
      taskId: "st-push",
      description: "Push",
      startedFrom: "slack",
      status: "pending-approval",
    });
    await hub.taskContext.addTask({ taskId: "st-done", description: "Backup", startedFrom: "slack" });
    await hub.taskContext.completeTask("st-done", { outputPath: "artifacts/backup.tar" });
    await hub.warmStandby.pingNow("claude");
    const before = hub.taskContext.getChannelState("cli").lastActive;

    const { code, stdout } = await cli(["status", ...at]);
    expect(code).toBe(0);
    expect(stdout.split("\n")).toEqual([
      "One task running, one waiting for you.",
      "  st-ocr: Your OCR task is 60% done.",
      "  st-push: Your push task is waiting for your approval.",
      "Last finished — st-done: Your backup task finished; the output is in artifacts/backup.tar.",
      "Backends: claude is warm.",
    ]);
    expect(hub.taskContext.getChannelState("cli").lastActive).not.toBe(before);
    await hub.taskContext.completeTask("st-ocr", {});
    await hub.taskContext.completeTask("st-push", {});
  });

  test("--json prints the context and health documents", async () => {
    const { code, stdout } = await cli(["status", "--json", ...at]);
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout);
    const context = hub.taskContext.getContext();
    expect(parsed.context.activeTasks).toEqual(context.activeTasks);
    expect(parsed.context.recentCompleted).toEqual(context.recentCompleted);
    expect(Object.keys(parsed.health.backends)).toEqual(["claude"]);
  });

  test("an unreachable hub is exit 1 with what to do", async () => {
    const closed = await closedPortUrl();
    const { code, stderr } = await cli(["status", "--hub", closed]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `switchboard: cannot reach the hub at ${closed} (ECONNREFUSED); is it running? Start it with npm start`,
    );
  });
});

describe("task add, update, complete", () => {
  test("task add publishes a task started from cli and says where it stands", async () => {
    const { code, stdout } = await cli([
      "task",
      "add",
      "OCR",
      "--id",
      "t-ocr",
      "--progress",
      "0.6",
      "--eta",
      "12m",
      ...at,
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe("Added t-ocr. Your OCR task is 60% done, about 12 minutes left.");
    const task = hub.taskContext.getActiveTask("t-ocr");
    expect(task).toMatchObject({ description: "OCR", startedFrom: "cli", progress: 0.6, etaSource: "publisher" });
    expect(hub.taskContext.getChannelState("cli").lastTaskId).toBe("t-ocr");
  });

  test("task update changes step, total and last update; --json prints the task", async () => {
    const { code, stdout } = await cli([
      "task",
      "update",
      "t-ocr",
      "--step",
      "2",
      "--total-steps",
      "4",
      "--note",
      "parsing page 3",
      "--json",
      ...at,
    ]);
    expect(code).toBe(0);
    const task = JSON.parse(stdout);
    expect(task).toMatchObject({ taskId: "t-ocr", currentStep: 2, totalSteps: 4, lastUpdate: "parsing page 3" });
    expect(hub.taskContext.getActiveTask("t-ocr")).toEqual(task);
  });

  test("task update of an unknown task is exit 1 with the hub's message", async () => {
    const { code, stderr } = await cli(["task", "update", "no-such-task", "--progress", "0.5", ...at]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^switchboard: .*no-such-task.* \(404 not_found\)$/);
  });

  test.each([
    [["task", "update", "t-ocr"], "nothing to update: give at least one of"],
    [["task", "update", "t-ocr", "--progress", "2"], '--progress must be a number from 0 to 1, like 0.6 (got "2")'],
    [
      ["task", "update", "t-ocr", "--status", "complete"],
      '--status must be one of running, queued, pending-approval (got "complete")',
    ],
    [
      ["task", "update", "t-ocr", "--eta", "soon"],
      "--eta must be an ISO time, a duration from now like 30s, 12m or 2h, or none",
    ],
    [["task", "update", "t-ocr", "--step", "two"], '--step must be a whole number, like 2 (got "two")'],
    [["task", "add"], "missing argument: switchboard task add"],
    [["task", "add", "two", "words"], 'unexpected argument "words"'],
    [["task", "frobnicate"], 'unknown command "task frobnicate"'],
  ])("bad usage %j is exit 2, says what was wrong, and changes nothing", async (args, message) => {
    const before = hub.taskContext.getContext();
    const { code, stderr } = await cli([...args, ...at]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain("Usage: switchboard");
    expect(hub.taskContext.getContext()).toEqual(before);
  });

  test("task complete finishes the task with its output path", async () => {
    const { code, stdout } = await cli(["task", "complete", "t-ocr", "--output", "artifacts/ocr.md", ...at]);
    expect(code).toBe(0);
    expect(stdout).toBe("Your OCR task finished; the output is in artifacts/ocr.md.");
    expect(hub.taskContext.getContext().recentCompleted[0]).toMatchObject({ taskId: "t-ocr", status: "complete" });
  });

  test("task complete --error fails the task", async () => {
    await hub.taskContext.addTask({ taskId: "t-scan", description: "Scan", startedFrom: "cli" });
    const { code, stdout } = await cli(["task", "complete", "t-scan", "--error", "scanner offline", ...at]);
    expect(code).toBe(0);
    expect(stdout).toBe("Your scan task failed: scanner offline.");
  });
});

describe("approve, reject, cancel", () => {
  test("approve acts for the cli channel; approving again is refused with exit 1", async () => {
    await hub.taskContext.addTask({
      taskId: "a-push",
      description: "Push",
      startedFrom: "slack",
      status: "pending-approval",
    });
    const first = await cli(["approve", "a-push", ...at]);
    expect(first.code).toBe(0);
    expect(hub.taskContext.getActiveTask("a-push")).toMatchObject({
      status: "running",
      approval: { decision: "approved", channel: "cli" },
    });
    expect(first.stdout).toMatch(/^Your push task /);

    await hub.taskContext.updateTask("a-push", { status: "queued" });
    const again = await cli(["approve", "a-push", ...at]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^switchboard: .+ \(409 conflict\)$/);
  });

  test("approve sends the step: --step for another step than the waiting one is refused (exit 1, 409) and changes nothing; without --step the waiting step is named", async () => {
    await hub.taskContext.addTask({
      taskId: "s-push",
      description: "Push",
      startedFrom: "slack",
      plan: { steps: [{ title: "Build" }, { title: "Push" }] },
      currentStep: 2,
      status: "pending-approval",
    });
    const before = hub.taskContext.getContext();
    const stale = await cli(["approve", "s-push", "--step", "1", ...at]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("waits for a decision on step 2, not step 1");
    expect(hub.taskContext.getContext()).toBe(before);

    const named = await cli(["approve", "s-push", ...at]);
    expect(named.code).toBe(0);
    expect(named.stdout).toMatch(/\(step 2 approved\)$/);
    expect(hub.taskContext.getActiveTask("s-push")?.approval).toMatchObject({ decision: "approved", step: 2 });
  });

  test("reject --reason fails the task waiting for approval", async () => {
    await hub.taskContext.addTask({
      taskId: "r-push",
      description: "Push",
      startedFrom: "slack",
      status: "pending-approval",
    });
    const { code, stdout } = await cli(["reject", "r-push", "--reason", "not today", ...at]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Your push task failed: /);
    expect(hub.taskContext.getContext().recentCompleted[0]).toMatchObject({ taskId: "r-push", status: "failed" });
  });

  test("cancel fails a running task; an unknown task is exit 1", async () => {
    await hub.taskContext.addTask({ taskId: "c-job", description: "Job", startedFrom: "cli" });
    const { code, stdout } = await cli(["cancel", "c-job", ...at]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Your job task failed: /);
    const unknown = await cli(["cancel", "c-none", ...at]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      "switchboard: no task with id c-none; list tasks with GET /api/context (404 not_found)",
    );
  });
});

describe("ping and prewarm", () => {
  test("ping pings the backend now and prints its health sentence", async () => {
    const { code, stdout } = await cli(["ping", "claude", ...at]);
    expect(code).toBe(0);
    expect(stdout).toBe("claude is warm, last good ping just now.");
    expect(hub.taskContext.getChannelState("cli").lastActive).not.toBeNull();
  });

  test("ping of an unknown backend is exit 1 with the hub's message", async () => {
    const { code, stderr } = await cli(["ping", "gemini", ...at]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^switchboard: .*gemini.* \(404 not_found\)$/);
  });

  test("prewarm starts a pre-warmed session", async () => {
    const { code, stdout } = await cli(["prewarm", "claude", "--json", ...at]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ backend: "claude", session: { state: expect.any(String) } });
  });
});

describe("route", () => {
  test("route hands the task to the router as started from cli and prints its id; --json gives {taskId}", async () => {
    const { code, stdout } = await cli([
      "route",
      "Summarize the report",
      "--step",
      "Read: read report.pdf",
      "--backend",
      "claude",
      ...at,
    ]);
    expect(code).toBe(0);
    const taskId = /^Routed as (\S+)$/.exec(stdout)?.[1] as string;
    expect(taskId).toBeDefined();
    const context = hub.taskContext.getContext();
    const task = [...context.activeTasks, ...context.recentCompleted].find((t) => t.taskId === taskId);
    expect(task).toMatchObject({
      description: "Summarize the report",
      startedFrom: "cli",
      backend: "claude",
      plan: { steps: [{ title: "Read", prompt: "read report.pdf" }] },
    });
    expect(hub.taskContext.getChannelState("cli").lastTaskId).toBe(taskId);

    const json = await cli(["route", "Another", "--json", ...at]);
    expect(json.code).toBe(0);
    expect(Object.keys(JSON.parse(json.stdout))).toEqual(["taskId"]);
  });

  test("a backend the hub does not know is refused: exit 1 with the router's message", async () => {
    const { code, stderr } = await cli(["route", "Summarize", "--backend", "gemini", ...at]);
    expect(code).toBe(1);
    expect(stderr).toContain('there is no backend named "gemini"; configured: claude');
  });

  test.each([
    [["route", "Summarize", "--step", "no colon here"], '--step must be "title: prompt"'],
    [["route"], "missing argument: switchboard route"],
  ])("bad usage %j is exit 2", async (args, message) => {
    const { code, stderr } = await cli([...args, ...at]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});

describe("conversation: new, say, output", () => {
  const finished = (taskId: string, steps: number) =>
    hub.taskContext
      .getContext()
      .recentCompleted.some((t) => t.taskId === taskId && t.status === "complete" && t.totalSteps === steps);

  test("new starts a routed task from cli, output prints its answer as Markdown, say continues it and output then holds both steps", async () => {
    const started = await cli(["new", "Gather the 2022 invoices", ...at]);
    expect(started.code).toBe(0);
    const taskId = /^Started your task “Gather the 2022 invoices”: (\S+)\.$/.exec(started.stdout)?.[1] as string;
    expect(taskId).toMatch(/^route_/);
    const context = hub.taskContext.getContext();
    expect([...context.activeTasks, ...context.recentCompleted].find((t) => t.taskId === taskId)).toMatchObject({
      description: "Gather the 2022 invoices",
      startedFrom: "cli",
    });
    await expect.poll(() => finished(taskId, 1), { timeout: 10_000, message: "the task to finish" }).toBeTruthy();
    const first = await cli(["output", taskId, ...at]);
    expect(first).toMatchObject({ code: 0, stdout: "echo: Gather the 2022 invoices" });

    const said = await cli(["say", taskId, "and also check the 2023 files", ...at]);
    expect(said.code).toBe(0);
    expect(said.stdout).toBe("Added to your task “Gather the 2022 invoices” as step 2.");
    await expect.poll(() => finished(taskId, 2), { timeout: 10_000, message: "the follow-up to finish" }).toBeTruthy();
    const both = await cli(["output", taskId, ...at]);
    expect(both.stdout.split("\n")).toEqual([
      "# Gather the 2022 invoices",
      "",
      "## 1. Gather the 2022 invoices",
      "",
      "echo: Gather the 2022 invoices",
      "",
      "## 2. and also check the 2023 files",
      "",
      "echo: and also check the 2023 files",
    ]);

    const json = await cli(["output", taskId, "--json", ...at]);
    expect(json.code).toBe(0);
    const transcript = JSON.parse(json.stdout) as { taskId: string; entries: { step: number; from: string | null }[] };
    expect(transcript.taskId).toBe(taskId);
    expect(transcript.entries.map((e) => [e.step, e.from])).toEqual([
      [1, null],
      [2, "cli"],
    ]);
  });

  test("say to a task the hub does not know is exit 1 with its message; output of one too", async () => {
    const said = await cli(["say", "route_nope", "hello", ...at]);
    expect(said.code).toBe(1);
    expect(said.stderr).toMatch(/route_nope.*\(404 not_found\)$/);
    const output = await cli(["output", "route_nope", ...at]);
    expect(output.code).toBe(1);
    expect(output.stderr).toContain("404 not_found");
  });

  test.each([
    [["new", "   "], "say what the task should do"],
    [["new", "x".repeat(2001)], "at most 2000 characters"],
    [["say", "route_x"], "missing argument: switchboard say"],
    [["say", "route_x", " "], "say what to add to the task"],
    [["output"], "missing argument: switchboard output"],
  ])("bad usage %j is exit 2 and asks the hub nothing", async (args, message) => {
    const { code, stderr } = await cli([...args, ...at]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});

describe("usage", () => {
  test.each([
    "status",
    "watch",
    "route",
    "task add",
    "task update",
    "task complete",
    "approve",
    "reject",
    "cancel",
    "ping",
    "prewarm",
    "new",
    "say",
    "output",
  ])("switchboard %s --help prints its usage and exits 0", async (name) => {
    const { code, stdout } = await cli([...name.split(" "), "--help"]);
    expect(code).toBe(0);
    expect(stdout.split("\n")[0]).toMatch(new RegExp(`^Usage: switchboard ${name}\\b`));
    expect(stdout).toContain("--hub URL");
  });

  test("switchboard --help lists every command", async () => {
    const { code, stdout } = await cli(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("task complete  finish a task");
  });

  test.each([
    [[], "say which command to run"],
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["status", "--bogus"], "Unknown option '--bogus'"],
    [["status", "--hub", "ftp://x"], "--hub must be an http:// or https:// URL"],
  ])("%j is exit 2 with the reason and the usage", async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain("Usage: switchboard");
  });
});

describe("token", () => {
  test("a guarded hub refuses without SWITCHBOARD_TOKEN (exit 1) and answers with it", async () => {
    const guarded = await startTestHub({ token: "cli-secret" });
    try {
      const refused = await cli(["status", "--hub", guarded.url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/\(401 unauthorized\)$/);
      const allowed = await cli(["status", "--hub", guarded.url], { SWITCHBOARD_TOKEN: "cli-secret" });
      expect(allowed.code).toBe(0);
      expect(allowed.stdout.split("\n")[0]).toBe("Nothing is running.");
    } finally {
      await guarded.stop();
    }
  });
});

describe("watch", () => {
  test("draws a progress bar per task, redraws it on a pushed change, reconnects by itself, and exits 0 on Ctrl-C", async () => {
    const dataDir = await makeDataDir();
    let live = await startTestHub({ dataDir });
    const port = live.port;
    await live.taskContext.addTask({
      taskId: "w-ocr",
      description: "OCR",
      startedFrom: "cli",
      totalSteps: 4,
      currentStep: 1,
    });
    const child = execa(process.execPath, [BIN, "watch", "--hub", live.url], {
      cwd: ROOT,
      reject: false,
      env: { SWITCHBOARD_TOKEN: "" },
      stdout: "pipe",
    });
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += String(chunk);
    });
    /** The frames drawn so far (a pipe gets each frame after a blank line). */
    const frames = () => out.split("\n\n").filter(Boolean);
    const waitForFrame = async (check: (frame: string) => boolean, what: string) => {
      await expect.poll(() => frames().some(check), { timeout: 15_000, message: what }).toBeTruthy();
      return frames().find(check) as string;
    };
    try {
      // The two documents arrive one after the other; a frame between them says "not known yet".
      const first = await waitForFrame(
        (f) => f.includes("OCR") && !f.includes("not known yet"),
        "a frame with the task and the backends",
      );
      expect(first.split("\n")).toEqual([
        `Switchboard ${live.url} — live`,
        "One task running.",
        "[░░░░░░░░░░░░░░░░░░░░]   0%  OCR · running · step 1 of 4",
        "Backends: No backends are configured",
      ]);

      await live.taskContext.updateTask("w-ocr", { currentStep: 3, progress: 0.6, lastUpdate: "page 7" });
      const moved = await waitForFrame((f) => f.includes("60%"), "the redrawn bar");
      // The hub estimates an ETA from the elapsed time and the progress, so some time left follows.
      expect(moved.split("\n")[2]).toMatch(/^\[█{12}░{8}\] {2}60% {2}OCR · running · step 3 of 4 — page 7 · .+ left$/);

      await live.stop();
      await waitForFrame((f) => f.includes("reconnecting"), "the reconnecting header");
      live = await startTestHub({ dataDir, config: { port } });
      await live.taskContext.updateTask("w-ocr", { progress: 0.75 });
      const back = await waitForFrame((f) => f.includes("75%"), "a frame from the restarted hub");
      expect(back.split("\n")[0]).toBe(`Switchboard ${live.url} — live`);
      await expect
        .poll(() => live.taskContext.getChannelState("cli").lastActive !== null, {
          timeout: 5000,
          message: "cli marked active",
        })
        .toBeTruthy();

      child.kill("SIGINT");
      expect((await child).exitCode).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await live.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
