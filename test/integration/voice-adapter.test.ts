// The voice adapter against a real hub: it answers from its live mirror (no round trip), marks the
// voice channel active, and announces milestones — finished, failed, needs approval, backend dead.
import { mkdtemp, readFile, symlink, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import type { Speaker, SpeechOutcome } from "../../client/voice/speaker.ts";
import { createVoiceAdapter, type VoiceAdapter, voiceAnswer } from "../../client/voice/voice-adapter.ts";
import { startVoiceChannel } from "../../client/voice/voice-channel.ts";
import { VOICE_DEFAULTS } from "../../shared/defaults.ts";
import type { Context } from "../../shared/schemas.ts";
import { FAKE_BIN } from "../fixtures/fake-cli-env.ts";

const FAKE_TTS = join(import.meta.dirname, "..", "fixtures", "fake-tts.mjs");

import { hubClient, startTestHub, type TestHub } from "../helpers/hub.ts";

const MINUTE = 60_000;

/** A speaker that only records what it was asked to say (the real one is tested on its own). */
function recordingSpeaker(): Speaker & { said: string[] } {
  const said: string[] = [];
  return {
    said,
    async say(text): Promise<SpeechOutcome> {
      said.push(text);
      return { text, ok: true, error: null };
    },
    async idle() {},
    async close() {},
  };
}

/** A fetch that counts the requests to each path before passing them on. */
function countingFetch(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input, init) => {
      calls.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
      return globalThis.fetch(input, init);
    },
  };
}

let hub: TestHub | null = null;
let adapter: VoiceAdapter | null = null;
afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  await hub?.stop();
  hub = null;
});

async function startAdapter(
  target: TestHub,
  options: { now?: () => number; fetch?: typeof fetch; activeThrottleMs?: number } = {},
): Promise<{ adapter: VoiceAdapter; client: HubClient; speaker: ReturnType<typeof recordingSpeaker> }> {
  const client = hubClient(target, { channel: "voice", ...(options.fetch ? { fetch: options.fetch } : {}) });
  const speaker = recordingSpeaker();
  adapter = createVoiceAdapter({
    client,
    speaker,
    ...(options.now ? { now: options.now } : {}),
    ...(options.activeThrottleMs ? { activeThrottleMs: options.activeThrottleMs } : {}),
  });
  await adapter.start();
  return { adapter, client, speaker };
}

describe("answering from the live mirror", () => {
  test("after a series of pushed changes, the answer is the sentence about what is happening now", async () => {
    hub = await startTestHub();
    const now = Date.now();
    const { adapter: voice, client } = await startAdapter(hub, { now: () => now });
    expect(voice.answer()).toBe("Nothing is running.");

    await hub.taskContext.addTask({ taskId: "ocr", description: "OCR", startedFrom: "voice", totalSteps: 4 });
    await hub.taskContext.updateTask("ocr", { currentStep: 2, progress: 0.3 });
    await hub.taskContext.updateTask("ocr", {
      currentStep: 3,
      progress: 0.6,
      eta: new Date(now + 12 * MINUTE).toISOString(),
    });
    await expect
      .poll(() => client.context?.activeTasks[0]?.progress === 0.6, {
        timeout: 5000,
        message: "the mirror to hold progress 0.6",
      })
      .toBeTruthy();
    expect(voice.answer()).toBe("Your OCR task is 60% done, about 12 minutes left.");

    await hub.taskContext.addTask({
      taskId: "rename",
      description: "Rename payments to billing",
      startedFrom: "telegram",
      status: "pending-approval",
    });
    await hub.taskContext.addTask({ taskId: "backup", description: "Backup", startedFrom: "cli", status: "queued" });
    await expect
      .poll(() => client.context?.activeTasks.length === 3, {
        timeout: 5000,
        message: "the mirror to hold three tasks",
      })
      .toBeTruthy();
    expect(voice.answer()).toBe(
      "One task running, one queued, one waiting for you. " +
        "Your task “Rename payments to billing” is waiting for your approval. " +
        "Your OCR task is 60% done, about 12 minutes left. " +
        "Your backup task is queued, next in line.",
    );

    await hub.taskContext.completeTask("ocr", { outputPath: "artifacts/ocr.md" });
    await hub.taskContext.completeTask("rename", { status: "failed", error: "rejected" });
    await hub.taskContext.completeTask("backup", {});
    await expect
      .poll(() => client.context?.activeTasks.length === 0, {
        timeout: 5000,
        message: "the mirror to hold no active task",
      })
      .toBeTruthy();
    expect(voice.answer()).toBe("Nothing is running. Your backup task finished.");
    // What it answers from is exactly the REST document, once the voice channel's own activity mark
    // (sent after it answers, so it may land between the two reads) has reached the mirror too.
    await expect.poll(async () => isDeepStrictEqual(client.context, await client.getContext())).toBe(true);
  });

  test("answer() is synchronous and needs no network: it still answers with the hub stopped", async () => {
    hub = await startTestHub();
    const { adapter: voice, client } = await startAdapter(hub);
    await hub.taskContext.addTask({ taskId: "ocr", description: "OCR", startedFrom: "voice", progress: 0.25 });
    await expect
      .poll(() => client.context?.activeTasks.length === 1, { timeout: 5000, message: "the task in the mirror" })
      .toBeTruthy();
    const before = voice.answer();
    expect(typeof before).toBe("string");
    expect(before).toBe("Your OCR task is 25% done.");
    await hub.stop();
    hub = null;
    expect(voice.answer()).toBe(before);
  });

  test("before the mirror holds anything, it says it is not connected", () => {
    expect(voiceAnswer(null, null, Date.now()).text).toBe("I am not connected to the hub yet.");
  });

  test("a dead backend is mentioned after the tasks", () => {
    const context: Context = {
      lastUpdated: new Date().toISOString(),
      activeTasks: [],
      recentCompleted: [],
      channelHistory: {},
    };
    const dead = {
      kind: "claude",
      status: "dead" as const,
      reason: "not logged in",
      version: null,
      authMethod: null,
      latencyMs: null,
      lastPing: null,
      lastSuccess: null,
      consecutiveFailures: 1,
      nextPingAt: null,
      loadedModels: [],
      latencyHistory: [],
      prewarmed: [],
    };
    const health = { lastUpdated: context.lastUpdated, backends: { claude: dead } };
    expect(voiceAnswer(context, health, Date.now()).text).toBe(
      "Nothing is running. The claude backend is dead: not logged in.",
    );
  });

  test("more than three active tasks: three are named, the rest counted", () => {
    const task = (i: number) => ({
      taskId: `t${i}`,
      description: `Job ${i}`,
      status: "running" as const,
      plan: { steps: [] },
      currentStep: 0,
      totalSteps: 0,
      startedFrom: "cli" as const,
      startedAt: new Date().toISOString(),
      eta: null,
      lastUpdate: "",
      outputPath: null,
      progress: 0.5,
      etaSource: null,
      updatedAt: new Date().toISOString(),
    });
    const context: Context = {
      lastUpdated: new Date().toISOString(),
      activeTasks: [1, 2, 3, 4, 5].map(task),
      recentCompleted: [],
      channelHistory: {},
    };
    expect(voiceAnswer(context, null, Date.now()).text).toBe(
      "Five tasks running. Your job 1 task is 50% done. Your job 2 task is 50% done. Your job 3 task is 50% done. And 2 more.",
    );
  });
});

describe("marking the voice channel active", () => {
  test("an answer marks voice active with the task it spoke about, at most once per throttle window", async () => {
    hub = await startTestHub();
    let now = Date.now();
    const counting = countingFetch();
    const { adapter: voice } = await startAdapter(hub, {
      now: () => now,
      fetch: counting.fetch,
      activeThrottleMs: 30_000,
    });
    await hub.taskContext.addTask({ taskId: "ocr", description: "OCR", startedFrom: "telegram" });
    await expect
      .poll(() => voice.answer().startsWith("Your OCR task"), { timeout: 5000, message: "the task in the mirror" })
      .toBeTruthy();
    const marks = () => counting.calls.filter((c) => c === "POST /api/channels/voice/active").length;
    await expect
      .poll(() => hub?.taskContext.getChannelState("voice")?.lastTaskId === "ocr", {
        timeout: 5000,
        message: "voice marked active",
      })
      .toBeTruthy();
    expect(marks()).toBe(1);

    voice.answer();
    voice.answer();
    expect(marks()).toBe(1);

    now += 30_001;
    voice.answer();
    expect(marks()).toBe(2);
  });
});

describe("announcing milestones", () => {
  test("finished, failed, needs approval and a backend going dead are announced in order; what was there at connection is not", async () => {
    // A real fake `claude` on a PATH the test controls: removing it makes the next ping fail.
    const binDir = await mkdtemp(join(tmpdir(), "switchboard-voice-bin-"));
    await symlink(join(FAKE_BIN, "claude"), join(binDir, "claude"));
    hub = await startTestHub({
      config: { backends: { claude: { kind: "claude" } } },
      backendEnv: { PATH: [binDir, dirname(process.execPath)].join(delimiter) },
    });
    await hub.warmStandby.pingNow("claude");
    expect(hub.warmStandby.getHealth().backends.claude?.status).toBe("warm");
    await hub.taskContext.addTask({
      taskId: "old",
      description: "Old job",
      startedFrom: "cli",
      status: "pending-approval",
    });

    const counting = countingFetch();
    const { speaker, adapter: voice } = await startAdapter(hub, { fetch: counting.fetch });
    await hub.taskContext.addTask({ taskId: "ocr", description: "OCR", startedFrom: "voice" });
    await hub.taskContext.addTask({ taskId: "push", description: "Push to main", startedFrom: "slack" });
    await hub.taskContext.addTask({ taskId: "scan", description: "Scan", startedFrom: "dashboard" });
    await hub.taskContext.updateTask("ocr", { progress: 0.5 });
    await hub.taskContext.updateTask("push", {
      status: "pending-approval",
      awaitingApproval: { step: 0, title: "git push origin main", detail: "" },
    });
    await hub.taskContext.completeTask("ocr", { outputPath: "artifacts/ocr.md" });
    await hub.taskContext.completeTask("scan", { status: "failed", error: "the scanner is offline" });
    await unlink(join(binDir, "claude"));
    await hub.warmStandby.pingNow("claude");

    await expect.poll(() => speaker.said.length >= 4, { timeout: 5000, message: "four announcements" }).toBeTruthy();
    const dead = hub.warmStandby.getHealth().backends.claude;
    expect(dead?.status).toBe("dead");
    expect(speaker.said).toEqual([
      "Your task “Push to main” is waiting for your approval: git push origin main",
      "Your OCR task finished; the output is in artifacts/ocr.md",
      "Your scan task failed: the scanner is offline",
      `The claude backend went dead: ${dead?.reason}`,
    ]);
    expect(voice.announced).toEqual(speaker.said);
    // Each announcement (about a different task, or none) marks the voice channel active.
    expect(counting.calls.filter((c) => c === "POST /api/channels/voice/active")).toHaveLength(4);
    await expect
      .poll(() => hub?.taskContext.getChannelState("voice").lastActive !== null, {
        timeout: 5000,
        message: "voice marked active",
      })
      .toBeTruthy();
  });
});

describe("announcing through a real text-to-speech process", () => {
  test("milestones pushed in a burst are spoken in order, each run ending before the next starts", async () => {
    hub = await startTestHub();
    const log = join(await mkdtemp(join(tmpdir(), "switchboard-voice-tts-")), "tts.jsonl");
    const channel = await startVoiceChannel({
      hubUrl: hub.url,
      token: null,
      settings: {
        ...VOICE_DEFAULTS,
        port: 0,
        tts: { command: process.execPath, args: [FAKE_TTS, log, "40"], timeoutMs: 5000 },
      },
    });
    try {
      await channel.ready;
      for (const id of ["a", "b", "c"]) {
        await hub.taskContext.addTask({ taskId: id, description: `Job ${id}`, startedFrom: "cli" });
      }
      // All three finish before the first announcement could have been spoken.
      await Promise.all([
        hub.taskContext.completeTask("a", {}),
        hub.taskContext.completeTask("b", { status: "failed", error: "disk full" }),
        hub.taskContext.updateTask("c", { status: "pending-approval" }),
      ]);
      const spoken = async () =>
        (await readFile(log, "utf8").catch(() => ""))
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { event: string; text: string });
      const sentences = [
        "Your job a task finished",
        "Your job b task failed: disk full",
        "Your job c task is waiting for your approval",
      ];
      await expect
        .poll(async () => (await spoken()).map((e) => `${e.event} ${e.text}`))
        .toEqual(sentences.flatMap((s) => [`start ${s}`, `end ${s}`]));
    } finally {
      await channel.close();
    }
  });
});
