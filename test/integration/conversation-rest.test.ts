// A task's conversation over REST, in a real hub with the built-in router and fake CLIs: follow-ups
// (queued after the current step, or reopening a finished task), the answers as Markdown, the
// transcript as JSON and on disk, and every refusal the contract names.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Task, transcriptSchema } from "../../shared/schemas.ts";
import type { TestHub } from "../helpers/hub.ts";
import { cleanupRouterHubs, finishedTask, refusal, routerHub } from "../helpers/router-hub.ts";

afterEach(cleanupRouterHubs);

async function post(hub: TestHub, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${hub.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe("follow-ups", () => {
  it("a follow-up to a finished task reopens it under the same id, marks the channel active, and its answer joins the output", async () => {
    const { hub, client, artifactsDir } = await routerHub();
    const { taskId } = await client.route({ description: "Gather the 2024 files", startedFrom: "voice" });
    await finishedTask(hub, taskId);

    const response = await post(hub, `/api/context/tasks/${taskId}/messages`, {
      text: "and also check the 2023 files",
      channel: "telegram",
    });
    expect(response).toEqual({ status: 202, body: { taskId, step: 2 } });
    const context = hub.taskContext.getContext();
    const reopened = context.activeTasks.find((t) => t.taskId === taskId) as Task;
    expect(reopened).toMatchObject({ totalSteps: 2, startedFrom: "voice" });
    expect(["queued", "running"]).toContain(reopened.status);
    expect(reopened.completedAt).toBeUndefined();
    expect(context.recentCompleted.some((t) => t.taskId === taskId)).toBe(false);
    expect(context.channelHistory.telegram?.lastTaskId).toBe(taskId);

    await finishedTask(hub, taskId);
    const output = await client.getOutput(taskId);
    expect(output).toBe(
      "# Gather the 2024 files\n\n" +
        "## 1. Gather the 2024 files\n\necho: Gather the 2024 files\n\n" +
        "## 2. and also check the 2023 files\n\necho: and also check the 2023 files\n",
    );
    const transcript = transcriptSchema.parse(await client.getTranscript(taskId));
    expect(transcript.entries.map((e) => [e.step, e.from, e.answer])).toEqual([
      [1, null, "echo: Gather the 2024 files"],
      [2, "telegram", "echo: and also check the 2023 files"],
    ]);
    // The output file holds every answer too, the transcript file every entry, one a line.
    expect(await readFile(join(artifactsDir, `${taskId}.md`), "utf8")).toBe(output);
    const lines = (await readFile(join(hub.dataDir, "transcripts", `${taskId}.jsonl`), "utf8")).trim().split("\n");
    expect(lines.map((line) => JSON.parse(line).step)).toEqual([1, 2]);
  });

  it("a follow-up to a running task runs after its current step, before the task completes", async () => {
    const { hub, client } = await routerHub({ modes: { FAKE_CLI_START_DELAY_MS: "300" } });
    const { taskId } = await client.route({ description: "Read the contract", startedFrom: "cli" });
    await expect
      .poll(() => hub.taskContext.getActiveTask(taskId)?.status === "running", {
        timeout: 10_000,
        message: "the step to start",
      })
      .toBeTruthy();

    const accepted = await client.sendMessage(taskId, "now summarise it", "slack");
    expect(accepted).toEqual({ taskId, step: 2 });
    expect(hub.taskContext.getActiveTask(taskId)).toMatchObject({ status: "running", totalSteps: 2 });

    await finishedTask(hub, taskId);
    const task = hub.taskContext.getContext().recentCompleted[0] as Task;
    expect(task).toMatchObject({ taskId, status: "complete", currentStep: 2, result: "echo: now summarise it" });
    const transcript = await client.getTranscript(taskId);
    expect(transcript.entries.map((e) => e.prompt)).toEqual(["Read the contract", "now summarise it"]);
  });

  it("a task without an answer yet has an empty output document, not an error", async () => {
    const { hub, client } = await routerHub();
    const { taskId } = await client.route({
      description: "Needs a yes first",
      startedFrom: "dashboard",
      steps: [{ title: "Delete files", prompt: "delete them", requiresApproval: true }],
    });
    await expect
      .poll(() => hub.taskContext.getActiveTask(taskId)?.status === "pending-approval", {
        timeout: 10_000,
        message: "the ask",
      })
      .toBeTruthy();
    const response = await fetch(`${hub.url}/api/context/tasks/${taskId}/output`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/markdown");
    expect(await response.text()).toBe("");
    expect(await client.getTranscript(taskId)).toEqual({ taskId, description: "Needs a yes first", entries: [] });
  });
});

describe("refused follow-ups change nothing", () => {
  it.each([
    { name: "empty text", body: { text: "   ", channel: "cli" }, says: "text: must not be empty" },
    {
      name: "over-long text",
      body: { text: "x".repeat(20_001), channel: "cli" },
      says: "text: must be at most 20000 characters",
    },
    { name: "no channel", body: { text: "more" }, says: "channel" },
    { name: "an unknown field", body: { text: "more", channel: "cli", urgent: true }, says: "urgent" },
  ])("$name → 400 saying what was wrong", async ({ body, says }) => {
    const { hub, client } = await routerHub();
    const { taskId } = await client.route({ description: "One thing", startedFrom: "cli" });
    await finishedTask(hub, taskId);
    const version = hub.taskContext.document.version;

    const response = await post(hub, `/api/context/tasks/${taskId}/messages`, body);
    expect(response.status).toBe(400);
    expect((response.body as { error: { message: string } }).error.message).toContain(says);
    expect(hub.taskContext.document.version).toBe(version);
  });

  it("a follow-up, output or transcript for an unknown task is 404", async () => {
    const { client } = await routerHub();
    for (const call of [
      () => client.sendMessage("route_nope", "hello"),
      () => client.getOutput("route_nope"),
      () => client.getTranscript("route_nope"),
    ]) {
      const error = await refusal(call());
      expect(error.status).toBe(404);
      expect(error.message).toContain("no task with id route_nope");
    }
  });

  it("a follow-up to a task evicted from recentCompleted is 404 saying it finished too long ago", async () => {
    const { hub, client } = await routerHub({ context: { recentLimit: 1 } });
    const first = await client.route({ description: "First", startedFrom: "cli" });
    await finishedTask(hub, first.taskId);
    const second = await client.route({ description: "Second", startedFrom: "cli" });
    await finishedTask(hub, second.taskId);
    expect(hub.taskContext.getContext().recentCompleted.map((t) => t.taskId)).toEqual([second.taskId]);
    const version = hub.taskContext.document.version;

    const error = await refusal(client.sendMessage(first.taskId, "one more thing"));
    expect(error.status).toBe(404);
    expect(error.message).toContain(`task ${first.taskId} finished too long ago`);
    expect(error.message).toContain("context.recentLimit");
    expect(hub.taskContext.document.version).toBe(version);
  });

  it("a follow-up to a task another publisher runs is 409", async () => {
    const { hub, client } = await routerHub();
    const task = await client.addTask({ description: "External", startedFrom: "cli" });
    const error = await refusal(client.sendMessage(task.taskId, "more"));
    expect(error.status).toBe(409);
    expect(error.message).toContain("not the built-in router");
    expect(hub.taskContext.getActiveTask(task.taskId)?.plan.steps).toEqual([]);
  });
});
