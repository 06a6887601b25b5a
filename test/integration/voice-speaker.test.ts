// The voice channel's speaker: real text-to-speech processes, one at a time, in order, with a
// timeout that kills the whole process group; and a real espeak-ng run writing a WAV file.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { createSpeaker, defaultTtsCommand, type Speaker } from "../../client/voice/speaker.ts";
import { groupMembers } from "../fixtures/fake-cli-env.ts";

const FAKE_TTS = join(import.meta.dirname, "..", "fixtures", "fake-tts.mjs");

interface TtsEvent {
  event: "start" | "end" | "child";
  text?: string;
  pid: number;
}

async function tempLog(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), "switchboard-tts-")), "tts.jsonl");
}

async function events(log: string): Promise<TtsEvent[]> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TtsEvent);
}

let speaker: Speaker | null = null;
afterEach(async () => {
  await speaker?.close();
  speaker = null;
});

describe("speaker", () => {
  test("announcements queued at once are spoken one at a time, in order, never overlapping", async () => {
    const log = await tempLog();
    speaker = createSpeaker({ tts: { command: process.execPath, args: [FAKE_TTS, log, "40"], timeoutMs: 10_000 } });
    const sentences = ["Your OCR task finished", "Your backup task failed: disk full", "The claude backend went dead"];
    const outcomes = await Promise.all(sentences.map((s) => speaker!.say(s)));

    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    const seen = (await events(log)).map((e) => `${e.event} ${e.text}`);
    // Each run ends before the next starts: start/end pairs strictly alternate.
    expect(seen).toEqual(sentences.flatMap((s) => [`start ${s}`, `end ${s}`]));
  });

  test("a sentence said while another is speaking waits for it", async () => {
    const log = await tempLog();
    speaker = createSpeaker({ tts: { command: process.execPath, args: [FAKE_TTS, log, "80"], timeoutMs: 10_000 } });
    const first = speaker.say("first");
    await expect
      .poll(async () => (await events(log)).length > 0, { timeout: 5000, message: "the first run to start" })
      .toBeTruthy();
    const second = speaker.say("second");
    await Promise.all([first, second]);
    expect((await events(log)).map((e) => `${e.event} ${e.text}`)).toEqual([
      "start first",
      "end first",
      "start second",
      "end second",
    ]);
  });

  test("{text} in the arguments passes the sentence as an argument instead of stdin", async () => {
    const log = await tempLog();
    speaker = createSpeaker({
      tts: { command: process.execPath, args: [FAKE_TTS, log, "0", "", "{text}"], timeoutMs: 10_000 },
    });
    await speaker.say("--not an option");
    expect((await events(log)).map((e) => e.text)).toEqual(["--not an option", "--not an option"]);
  });

  test("a synthesizer that never finishes is killed with its whole process group at the timeout", async () => {
    const log = await tempLog();
    speaker = createSpeaker({ tts: { command: process.execPath, args: [FAKE_TTS, log, "0", "hang"], timeoutMs: 300 } });
    const hung = await speaker.say("hangs");
    expect(hung).toEqual({
      text: "hangs",
      ok: false,
      error: `${process.execPath} did not finish within 300 ms`,
    });
    const started = (await events(log)).find((e) => e.event === "start");
    expect(started).toBeDefined();
    const alive = () => groupMembers(started!.pid).filter((p) => p.state !== "Z");
    await expect
      .poll(() => alive().length === 0, { timeout: 5000, message: "the TTS process group to be gone" })
      .toBeTruthy();
    expect(alive()).toEqual([]);
  });

  test("a command that is not installed is reported with what to do, and does not stop later announcements", async () => {
    const reported: string[] = [];
    speaker = createSpeaker({
      tts: { command: "switchboard-no-such-tts", args: [], timeoutMs: 5000 },
      onSpoken: (o) => {
        if (!o.ok) reported.push(o.error ?? "");
      },
    });
    const outcome = await speaker.say("hello");
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toBe("switchboard-no-such-tts was not found on PATH; install it or set voice.tts.command");
    expect(reported).toEqual([outcome.error]);
    expect((await speaker.say("again")).ok).toBe(false);
  });

  test("a synthesizer that exits with an error is reported with its stderr", async () => {
    const log = await tempLog();
    speaker = createSpeaker({
      tts: { command: process.execPath, args: [FAKE_TTS, log, "0", "fail"], timeoutMs: 5000 },
    });
    const outcome = await speaker.say("hello");
    expect(outcome).toEqual({
      text: "hello",
      ok: false,
      error: `${process.execPath} exited with 3: fake-tts: no audio device`,
    });
  });

  test("with no command (tts none) announcements succeed silently", async () => {
    speaker = createSpeaker({ tts: null });
    expect(await speaker.say("quiet")).toEqual({ text: "quiet", ok: true, error: null });
  });

  test.each([
    ["linux", "espeak-ng"],
    ["darwin", "say"],
    ["win32", null],
  ] as const)("the default synthesizer on %s is %j", (platform, command) => {
    expect(defaultTtsCommand(platform)?.command ?? null).toBe(command);
  });
});

const hasEspeak = (() => {
  try {
    execFileSync("espeak-ng", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Seconds of audio in a PCM WAV file, from its fmt and data chunks. */
function wavSeconds(bytes: Buffer): number {
  if (bytes.toString("ascii", 0, 4) !== "RIFF" || bytes.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error("not a WAV file");
  }
  let byteRate = 0;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString("ascii", offset, offset + 4);
    let size = bytes.readUInt32LE(offset + 4);
    if (id === "fmt ") byteRate = bytes.readUInt32LE(offset + 16);
    if (id === "data") {
      // A writer that streams may leave the size unset; what follows is the data.
      if (size === 0 || size === 0xffffffff || offset + 8 + size > bytes.length) size = bytes.length - offset - 8;
      return byteRate > 0 ? size / byteRate : 0;
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error("WAV file has no data chunk");
}

// CI installs espeak-ng (.ci/run); on a machine without it this one test says why it skips.
describe.skipIf(!hasEspeak && !process.env.CI)("real espeak-ng (skipped: espeak-ng is not installed here)", () => {
  test("the speaker runs espeak-ng and the WAV it writes holds audio of non-zero duration", async () => {
    const wav = join(await mkdtemp(join(tmpdir(), "switchboard-espeak-")), "announcement.wav");
    speaker = createSpeaker({ tts: { command: "espeak-ng", args: ["-w", wav], timeoutMs: 20_000 } });
    const outcome = await speaker.say("Your OCR task is 60% done, about 12 minutes left.");
    expect(outcome).toEqual({ text: "Your OCR task is 60% done, about 12 minutes left.", ok: true, error: null });
    const seconds = wavSeconds(await readFile(wav));
    expect(seconds).toBeGreaterThan(0.5);
  });
});
