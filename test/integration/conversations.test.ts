// A task is one conversation, in a real hub with fake CLIs that remember (test/fixtures/fake-cli.mjs)
// and a fake Ollama: the first turn hears the description and plan, later steps and follow-ups are
// answered from what earlier turns said, a restarted hub continues the conversation, and a retry
// on another backend starts a new one told the earlier answers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Task, TranscriptEntry } from "../../shared/schemas.ts";
import { type FakeOllama, startFakeOllama } from "../fixtures/fake-ollama.ts";
import type { TestHub } from "../helpers/hub.ts";
import { cleanupRouterHubs, finishedTask, routerHub, runCalls } from "../helpers/router-hub.ts";

let ollama: FakeOllama | null = null;
const dirs: string[] = [];

afterEach(async () => {
  await cleanupRouterHubs();
  await ollama?.close();
  ollama = null;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-conversation-"));
  dirs.push(dir);
  return dir;
}

const finishedNow = (hub: TestHub, taskId: string): Task =>
  hub.taskContext.getContext().recentCompleted.find((t) => t.taskId === taskId) as Task;

const answers = async (hub: TestHub, taskId: string): Promise<TranscriptEntry[]> =>
  (await hub.transcripts.read(taskId)) ?? [];

const steps = [
  { title: "Gather", prompt: "gather the 2024 files" },
  { title: "Recall", prompt: "recall what you were asked" },
];

describe("one conversation per task", () => {
  it("claude: the first turn carries the description and plan; the next step and a follow-up remember it, in one kept process", async () => {
    const { hub, client, log } = await routerHub();
    const { taskId } = await client.route({ description: "Prepare the tax return", startedFrom: "voice", steps });
    await finishedTask(hub, taskId);

    const [first, second] = await answers(hub, taskId);
    expect(first?.prompt).toBe(
      "Task: Prepare the tax return\n\nPlan:\n1. Gather\n2. Recall\n\nStep 1 of 2: Gather\n\ngather the 2024 files",
    );
    expect(second?.answer).toBe(
      "recall: Task: Prepare the tax return Plan: 1. Gather 2. Recall Step 1 of 2: Gather gather the 2024 files",
    );
    const task = finishedNow(hub, taskId);
    expect(task.conversation).toEqual({ backend: "claude", id: expect.stringMatching(/^fake-session-/) });
    expect(first?.conversation).toEqual(task.conversation);

    await client.sendMessage(taskId, "recall everything so far", "telegram");
    await finishedTask(hub, taskId);
    const followUp = (await answers(hub, taskId))[2];
    expect(followUp?.answer).toContain("gather the 2024 files | Step 2 of 2: Recall recall what you were asked");
    expect(finishedNow(hub, taskId).conversation).toEqual(task.conversation);
    // Steps and the follow-up were turns of one process, kept between them.
    expect(await runCalls(log)).toHaveLength(1);
  });

  it("codex: later turns run `codex exec … resume --json <thread_id> -` and remember the thread", async () => {
    const { hub, client, log } = await routerHub({ backends: { codex: { kind: "codex" } } });
    const { taskId } = await client.route({ description: "Fix the parser", startedFrom: "cli", steps });
    await finishedTask(hub, taskId);

    const task = finishedNow(hub, taskId);
    expect(task.conversation).toEqual({ backend: "codex", id: expect.stringMatching(/^fake-thread-/) });
    const runs = await runCalls(log);
    expect(runs.map((r) => r.argv.slice(-4))).toEqual([
      expect.arrayContaining(["-"]),
      ["resume", "--json", task.conversation?.id, "-"],
    ]);
    expect(runs[0]?.argv).not.toContain("resume");
    const [, second] = await answers(hub, taskId);
    expect(second?.answer).toContain("recall: Task: Fix the parser");
    expect(second?.answer).toContain("gather the 2024 files");
  });

  it("ollama: every turn sends the task's earlier turns, kept by the hub", async () => {
    ollama = await startFakeOllama({ models: ["llama3.2"] });
    const { hub, client } = await routerHub({
      backends: { ollama: { kind: "ollama", url: ollama.url, model: "llama3.2" } },
    });
    const { taskId } = await client.route({ description: "Sort my notes", startedFrom: "cli", steps });
    await finishedTask(hub, taskId);

    const chats = ollama.calls.filter((c) => c.path === "/api/chat");
    const [, second] = await answers(hub, taskId);
    expect(chats[1]?.body?.messages).toEqual([
      { role: "user", content: (await answers(hub, taskId))[0]?.prompt },
      {
        role: "assistant",
        content:
          "echo: Task: Sort my notes\n\nPlan:\n1. Gather\n2. Recall\n\nStep 1 of 2: Gather\n\ngather the 2024 files",
      },
      { role: "user", content: "Step 2 of 2: Recall\n\nrecall what you were asked" },
    ]);
    expect(second?.answer).toContain("gather the 2024 files");
    expect(finishedNow(hub, taskId).conversation).toEqual({ backend: "ollama", id: taskId });
  });

  it("a restarted hub continues the conversation: a follow-up resumes the session with --resume and remembers", async () => {
    const dataDir = await tempDir();
    const state = await tempDir();
    const first = await routerHub({ dataDir, modes: { FAKE_CLI_STATE_DIR: state } });
    const { taskId } = await first.client.route({ description: "Draft the lease letter", startedFrom: "cli" });
    await finishedTask(first.hub, taskId);
    const conversation = finishedNow(first.hub, taskId).conversation;
    await first.hub.stop();

    const second = await routerHub({ dataDir, artifactsDir: first.artifactsDir, modes: { FAKE_CLI_STATE_DIR: state } });
    expect(second.hub.taskContext.getActiveTask(taskId)?.conversation).toEqual(conversation);
    await second.client.sendMessage(taskId, "recall the first request", "slack");
    await finishedTask(second.hub, taskId);

    const entries = await answers(second.hub, taskId);
    expect(entries.map((e) => e.answer)).toEqual(["echo: Draft the lease letter", "recall: Draft the lease letter"]);
    const [run] = await runCalls(second.log);
    expect(run?.argv).toEqual(expect.arrayContaining(["--resume", conversation?.id]));
    expect(finishedNow(second.hub, taskId).conversation).toEqual(conversation);
  });

  it("a hub restarted between steps, while step 2 waits for approval, runs step 2 in the same conversation with --resume", async () => {
    const dataDir = await tempDir();
    const state = await tempDir();
    const first = await routerHub({ dataDir, modes: { FAKE_CLI_STATE_DIR: state } });
    const { taskId } = await first.client.route({
      description: "File the trust papers",
      startedFrom: "voice",
      steps: [
        { title: "Gather", prompt: "gather the 2024 files" },
        { title: "Recall", prompt: "recall what you were asked", requiresApproval: true },
      ],
    });
    await expect
      .poll(() => first.hub.taskContext.getActiveTask(taskId)?.status === "pending-approval", {
        timeout: 15_000,
        message: "step 2 to wait for approval",
      })
      .toBeTruthy();
    const conversation = first.hub.taskContext.getActiveTask(taskId)?.conversation;
    expect(conversation).toEqual({ backend: "claude", id: expect.stringMatching(/^fake-session-/) });
    await first.hub.stop();

    const second = await routerHub({ dataDir, artifactsDir: first.artifactsDir, modes: { FAKE_CLI_STATE_DIR: state } });
    expect(second.hub.taskContext.getActiveTask(taskId)).toMatchObject({
      status: "pending-approval",
      awaitingApproval: { step: 2 },
      conversation,
    });
    await second.client.approve(taskId);
    await finishedTask(second.hub, taskId);

    // Step 2 was a turn of the first step's conversation: resumed by id, and it remembers step 1.
    const [run] = await runCalls(second.log);
    expect(run?.argv).toEqual(expect.arrayContaining(["--resume", conversation?.id]));
    const entries = await answers(second.hub, taskId);
    expect(entries).toHaveLength(2);
    expect(entries[1]?.answer).toContain("recall: Task: File the trust papers");
    expect(entries[1]?.answer).toContain("gather the 2024 files");
    expect(finishedNow(second.hub, taskId).conversation).toEqual(conversation);
  });

  it("a retry on another backend starts a new conversation told the earlier answers, and lastUpdate says so", async () => {
    // Claude's one process answers step 1 (three events), then dies on step 2's first event.
    const { hub, client } = await routerHub({
      backends: { claude: { kind: "claude", preference: 2 }, codex: { kind: "codex", preference: 1 } },
      modes: { FAKE_CLAUDE_FAIL_AFTER: "3" },
      router: { retryOnFailure: true },
    });
    const updates: string[] = [];
    hub.taskContext.document.subscribe((_change, state) => {
      for (const task of state.activeTasks) updates.push(task.lastUpdate);
    });
    const { taskId } = await client.route({ description: "Compare the leases", startedFrom: "cli", steps });
    await finishedTask(hub, taskId);

    const task = finishedNow(hub, taskId);
    expect(task).toMatchObject({ status: "complete", backend: "codex" });
    expect(task.conversation).toEqual({ backend: "codex", id: expect.stringMatching(/^fake-thread-/) });
    expect(updates).toContain(
      "step 2 of 2 started: Recall (a new conversation on codex, with a summary of 1 earlier answer)",
    );
    const [first, second] = await answers(hub, taskId);
    expect(first).toMatchObject({ backend: "claude", answer: expect.stringContaining("echo: gather the 2024 files") });
    expect(second?.backend).toBe("codex");
    expect(second?.prompt).toContain(
      "Earlier answers in this task (from claude; this is a new conversation):\nStep 1 (Gather): echo: gather the 2024 files",
    );
    // The new conversation heard the summary: a follow-up continues codex's thread, which holds it.
    await client.sendMessage(taskId, "recall it all", "cli");
    await finishedTask(hub, taskId);
    const third = (await answers(hub, taskId))[2];
    expect(third?.backend).toBe("codex");
    expect(third?.answer).toContain("Step 1 (Gather): echo: gather the 2024 files");
  });
});
