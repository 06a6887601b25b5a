// Speaks announcements through a text-to-speech command, one at a time in the order given:
// each run is its own process group with a timeout, so a hung synthesizer is killed whole.
import { execa } from "execa";

/** A text-to-speech command. `{text}` in `args` is replaced by the sentence; without it the sentence goes to stdin. */
export interface TtsCommand {
  command: string;
  args: string[];
  timeoutMs: number;
}

export const DEFAULT_TTS_TIMEOUT_MS = 30_000;

/**
 * The platform's own synthesizer: `espeak-ng` on Linux, `say` on macOS, none elsewhere. Both
 * read the sentence from stdin, so no sentence is ever parsed as an option.
 */
export function defaultTtsCommand(
  platform: NodeJS.Platform = process.platform,
  timeoutMs = DEFAULT_TTS_TIMEOUT_MS,
): TtsCommand | null {
  if (platform === "linux") return { command: "espeak-ng", args: [], timeoutMs };
  if (platform === "darwin") return { command: "say", args: [], timeoutMs };
  return null;
}

/** What one announcement's run came to; `error` says why it did not speak. */
export interface SpeechOutcome {
  text: string;
  ok: boolean;
  error: string | null;
}

export interface Speaker {
  /** Queues a sentence; resolves when it has been spoken (or has failed, or timed out). Never rejects. */
  say(text: string): Promise<SpeechOutcome>;
  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void>;
  /** Drops what is queued and kills the run in progress. */
  close(): Promise<void>;
}

export interface SpeakerOptions {
  /** null speaks nothing (announcements are still reported through onSpoken). */
  tts: TtsCommand | null;
  /** Told about every outcome: a failure is logged by the caller, never thrown into the hub client. */
  onSpoken?: (outcome: SpeechOutcome) => void;
}

// Process-wide because exit is: a synthesizer still talking when this process ends goes with it.
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

export function createSpeaker(options: SpeakerOptions): Speaker {
  let chain: Promise<unknown> = Promise.resolve();
  let current: { pid: number } | null = null;
  let closed = false;

  async function run(text: string): Promise<SpeechOutcome> {
    const tts = options.tts;
    if (closed) return { text, ok: false, error: "the speaker is closed" };
    if (!tts) return { text, ok: true, error: null };
    if (!exitHookInstalled) {
      process.once("exit", () => {
        for (const pid of liveGroups) killGroup(pid);
      });
      exitHookInstalled = true;
    }
    const placeholder = tts.args.some((arg) => arg.includes("{text}"));
    const args = placeholder ? tts.args.map((arg) => arg.replaceAll("{text}", text)) : tts.args;
    const child = execa(tts.command, args, {
      detached: true,
      input: placeholder ? "" : text,
      stdout: "ignore",
      stderr: "pipe",
      reject: false,
      // The group kill below is the timeout; execa's own would signal the leader only.
      cleanup: true,
    });
    const pid = child.pid;
    if (pid !== undefined) {
      liveGroups.add(pid);
      current = { pid };
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, tts.timeoutMs);
    try {
      const result = await child;
      if (timedOut) return { text, ok: false, error: `${tts.command} did not finish within ${tts.timeoutMs} ms` };
      const code = (result as { code?: string }).code;
      if (code === "ENOENT") {
        return { text, ok: false, error: `${tts.command} was not found on PATH; install it or set voice.tts.command` };
      }
      if (result.exitCode !== 0) {
        const stderr = String(result.stderr ?? "")
          .trim()
          .slice(0, 500);
        const why = result.signal ? `was killed by ${result.signal}` : `exited with ${result.exitCode}`;
        return { text, ok: false, error: `${tts.command} ${why}${stderr ? `: ${stderr}` : ""}` };
      }
      return { text, ok: true, error: null };
    } finally {
      clearTimeout(timer);
      if (pid !== undefined) {
        // Whatever the leader started dies with it.
        killGroup(pid);
        liveGroups.delete(pid);
      }
      current = null;
    }
  }

  return {
    say(text) {
      const spoken = chain.then(() =>
        run(text).catch((error: unknown) => ({ text, ok: false, error: (error as Error).message ?? String(error) })),
      );
      chain = spoken;
      return spoken.then((outcome) => {
        options.onSpoken?.(outcome);
        return outcome;
      });
    },
    async idle() {
      await chain;
    },
    async close() {
      closed = true;
      if (current) killGroup(current.pid);
      await chain;
    },
  };
}
