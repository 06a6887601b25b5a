// The voice channel takes what a phone heard: POST /utterance {text} on its own server answers
// {text} to speak (and speaks it), starting tasks, answering status from the mirror, approving or
// rejecting. A real hub with the router and the fake claude; a fake synthesizer logs what it spoke.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_UTTERANCE_BYTES } from "../../client/voice/status-server.ts";
import { type RunningVoiceChannel, startVoiceChannel } from "../../client/voice/voice-channel.ts";
import { VOICE_DEFAULTS } from "../../shared/defaults.ts";
import type { Task } from "../../shared/schemas.ts";
import { hubClient, type TestHub } from "../helpers/hub.ts";
import {
  cleanupRouterHubs,
  finishedTask,
  type RouterHubOptions,
  routerHub,
  allTasks as tasksOf,
} from "../helpers/router-hub.ts";

const FAKE_TTS = join(import.meta.dirname, "..", "fixtures", "fake-tts.mjs");

let hub: TestHub;
let channel: RunningVoiceChannel | null = null;
let dir: string | null = null;
let spokenLog: string;

afterEach(async () => {
  await channel?.close();
  channel = null;
  await cleanupRouterHubs();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

async function setUp(modes: Record<string, string> = {}, extra: Omit<RouterHubOptions, "modes"> = {}) {
  ({ hub } = await routerHub({ modes, ...extra }));
  dir = await mkdtemp(join(tmpdir(), "switchboard-voice-"));
  spokenLog = join(dir, "spoken.jsonl");
  channel = await startVoiceChannel({
    hubUrl: hub.url,
    token: null,
    settings: {
      ...VOICE_DEFAULTS,
      port: 0,
      tts: { command: process.execPath, args: [FAKE_TTS, spokenLog, "0"], timeoutMs: 5000 },
    },
  });
  await channel.ready;
}

async function say(text: unknown): Promise<{ status: number; body: { text?: string; error?: { message: string } } }> {
  const response = await fetch(`${channel?.url}/utterance`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text }),
  });
  return { status: response.status, body: (await response.json()) as { text?: string } };
}

async function spoken(): Promise<string[]> {
  const text = await readFile(spokenLog, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; text: string })
    .filter((entry) => entry.event === "end")
    .map((entry) => entry.text);
}

const allTasks = (): Task[] => tasksOf(hub);

async function heard(text: string) {
  await vi.waitFor(async () => expect(await spoken()).toContain(text), { timeout: 5000, interval: 20 });
}

describe("POST /utterance", () => {
  it("“start …” starts a routed task from voice, answers what started, and speaks the answer", async () => {
    await setUp();
    const { status, body } = await say("Start summarising the 2023 tax files");
    expect(status).toBe(200);
    expect(body.text).toBe("Started your task “summarising the 2023 tax files”. I will tell you when it is done.");
    expect(allTasks()).toHaveLength(1);
    expect(allTasks()[0]).toMatchObject({ description: "summarising the 2023 tax files", startedFrom: "voice" });
    await heard(body.text as string);
  });

  it("“start … in workspace NAME” starts the task in that configured workspace; a name the hub does not have stays part of the task", async () => {
    const root = await mkdtemp(join(tmpdir(), "switchboard-voice-ws-"));
    try {
      await setUp({}, { workspaces: { site: { path: root } } });
      const { body } = await say("Start fixing the failing test in workspace Site");
      expect(body.text).toBe(
        "Started your task “fixing the failing test” in workspace site. I will tell you when it is done.",
      );
      expect(allTasks()[0]).toMatchObject({ description: "fixing the failing test", workspace: "site" });

      const other = await say("start sweeping up in the attic workspace");
      expect(other.body.text).toBe(
        "Started your task “sweeping up in the attic workspace”. I will tell you when it is done.",
      );
      expect(allTasks().find((t) => t.description === "sweeping up in the attic workspace")?.workspace).toBeNull();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("“status” and “how is …” answer from the live mirror", async () => {
    await setUp();
    await hub.taskContext.addTask({ taskId: "ocr", description: "OCR", startedFrom: "cli", totalSteps: 4 });
    await hub.taskContext.updateTask("ocr", { currentStep: 2, progress: 0.6 });
    await expect
      .poll(() => channel?.adapter.answer().includes("60%") ?? false, {
        timeout: 5000,
        message: "the mirror to hold the task",
      })
      .toBeTruthy();
    const status = (await say("status")).body.text;
    expect(status).toMatch(/^Your OCR task is 60% done/);
    expect(status).toBe(channel?.adapter.answer());
    expect((await say("How is the OCR task going?")).body.text).toBe(status);
  });

  it("“approve” approves the one task waiting; with two waiting it asks which and changes nothing", async () => {
    await setUp();
    await hub.taskContext.addTask({ taskId: "deploy", description: "Deploy the site", startedFrom: "cli" });
    await hub.taskContext.updateTask("deploy", {
      status: "pending-approval",
      awaitingApproval: { step: 1, title: "Push", detail: "git push" },
    });
    await hub.taskContext.addTask({ taskId: "backup", description: "Back up the photos", startedFrom: "cli" });
    await hub.taskContext.updateTask("backup", {
      status: "pending-approval",
      awaitingApproval: { step: 1, title: "Copy", detail: "rsync" },
    });
    await expect
      .poll(() => channel?.adapter.answer().startsWith("Two tasks waiting for you") ?? false, {
        timeout: 5000,
        message: "the mirror to hold both waiting tasks",
      })
      .toBeTruthy();
    expect((await say("approve")).body.text).toBe(
      "Two tasks wait for your approval: your task “Deploy the site” and your task “Back up the photos”. Say approve and the task's name.",
    );
    for (const task of hub.taskContext.getContext().activeTasks) {
      expect(task.status).toBe("pending-approval");
      expect(task.approval).toBeUndefined();
    }

    expect((await say("reject the photos")).body.text).toBe("Rejected: your task “Back up the photos”.");
    const rejected = allTasks().find((task) => task.taskId === "backup");
    expect(rejected?.approval).toMatchObject({ decision: "rejected", channel: "voice" });
    await expect
      .poll(() => channel?.adapter.answer() === "Your task “Deploy the site” is waiting for your approval: Push.", {
        timeout: 5000,
        message: "the mirror to see the rejection",
      })
      .toBeTruthy();

    expect((await say("approve")).body.text).toBe("Approved: your task “Deploy the site”.");
    expect(allTasks().find((task) => task.taskId === "deploy")?.approval).toMatchObject({
      decision: "approved",
      channel: "voice",
    });
    expect((await say("approve")).body.text).toBe("Nothing is waiting for your approval.");
  });

  it("a tool call Claude asks about is announced by its summary; “approve” and “reject” decide that call, and the task goes on", async () => {
    const calls = [
      { tool_name: "Bash", input: { command: "npm test" } },
      { tool_name: "Bash", input: { command: "git push origin main" } },
    ];
    await setUp({ FAKE_CLAUDE_TOOL_CALLS: JSON.stringify(calls) });
    await say("start testing the site");
    const taskId = allTasks()[0]?.taskId as string;

    await heard("Your task “testing the site” is waiting for your approval: Bash: npm test");
    const first = hub.taskContext.getActiveTask(taskId)?.awaitingApproval;
    // The next call's wait clears the decision's record: every record the task shows is kept.
    const records: unknown[] = [];
    const stop = hub.taskContext.document.subscribe(() => {
      const approval = hub.taskContext.getActiveTask(taskId)?.approval;
      if (approval && JSON.stringify(records.at(-1)) !== JSON.stringify(approval)) records.push(approval);
    });
    expect((await say("approve")).body.text).toBe("Approved Bash: npm test; your task “testing the site” goes on.");
    expect(records[0]).toMatchObject({ decision: "approved", channel: "voice", step: 1, id: first?.id });

    await heard("Your task “testing the site” is waiting for your approval: Bash: git push origin main");
    expect((await say("reject")).body.text).toBe(
      "Rejected Bash: git push origin main; your task “testing the site” goes on without it.",
    );
    const done = await finishedTask(hub, taskId);
    stop();
    expect(records[1]).toMatchObject({ decision: "rejected", channel: "voice", reason: "rejected by voice" });
    expect(done.status).toBe("complete");
    expect(done.result).toBe(
      `Bash allowed: ${JSON.stringify(calls[0]?.input)}\nBash denied: rejected on voice: rejected by voice`,
    );
  });

  it("when a task finishes, the voice channel speaks the first sentence or two of its answer", async () => {
    await setUp({ FAKE_CLI_REPLY: "The invoices total 4,200 euros. Three are overdue. One is disputed." });
    await say("start totalling the invoices");
    await heard("Your task “totalling the invoices” finished: The invoices total 4,200 euros. Three are overdue.");
    expect(channel?.adapter.announced).toContain(
      "Your task “totalling the invoices” finished: The invoices total 4,200 euros. Three are overdue.",
    );
  });

  it("anything else is a follow-up to the voice channel's last task, answered in the same conversation", async () => {
    await setUp();
    await say("start gathering the 2022 invoices");
    const [task] = allTasks();
    await expect
      .poll(() => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === task?.taskId), {
        timeout: 10_000,
        message: "the first step to finish",
      })
      .toBeTruthy();
    const { body } = await say("and also check the 2023 files");
    expect(body.text).toBe("Added to your task “gathering the 2022 invoices” as step 2.");
    await expect
      .poll(
        () => hub.taskContext.getContext().recentCompleted.some((t) => t.taskId === task?.taskId && t.totalSteps === 2),
        { timeout: 10_000, message: "the follow-up to finish" },
      )
      .toBeTruthy();
    const transcript = await hubClient(hub).getTranscript(task?.taskId as string);
    expect(transcript.entries.map((e) => [e.step, e.from, e.answer])).toEqual([
      [1, null, "echo: gathering the 2022 invoices"],
      [2, "voice", "echo: and also check the 2023 files"],
    ]);
    expect(allTasks()).toHaveLength(1);
  });

  it("refuses bad input with a message saying what to send, and starts nothing", async () => {
    await setUp();
    const url = `${channel?.url}/utterance`;
    const empty = await say("");
    expect(empty.status).toBe(400);
    expect(empty.body.error?.message).toBe("text: must not be empty: send what was said");
    const notText = await say(42);
    expect(notText.status).toBe(400);
    const notJson = await fetch(url, { method: "POST", body: "start the thing" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toMatch(/must be JSON/);
    const tooLarge = await fetch(url, {
      method: "POST",
      body: JSON.stringify({ text: "x".repeat(MAX_UTTERANCE_BYTES) }),
    });
    expect(tooLarge.status).toBe(413);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(allTasks()).toEqual([]);
  });
});
