// Assembles the running voice channel: hub client + adapter + speaker + status server. Used by
// `npm run voice` and by the hub's entry point when config.json enables the voice section.
import type { VoiceSettings } from "../../shared/defaults.ts";
import { createNodeHubClient } from "../node-hub-client.ts";
import { createSpeaker, defaultTtsCommand, type TtsCommand } from "./speaker.ts";
import { startStatusServer } from "./status-server.ts";
import { createVoiceAdapter, type VoiceAdapter } from "./voice-adapter.ts";

export interface VoiceChannelOptions {
  hubUrl: string;
  token: string | null;
  settings: VoiceSettings;
  /** The hub's `security` settings: the status server follows the same Host and Origin rules. */
  security?: { allowedHosts: string[]; allowedOrigins: string[] };
  log?: (message: string) => void;
}

export interface RunningVoiceChannel {
  /** Where `GET /status` is served. */
  url: string;
  adapter: VoiceAdapter;
  /** Resolves once the mirror holds both documents (the hub may come up later; it reconnects). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** The TTS command the settings name: "auto" picks the platform's, "none" speaks nothing. */
export function ttsFromSettings(
  tts: VoiceSettings["tts"],
  platform: NodeJS.Platform = process.platform,
): TtsCommand | null {
  if (tts.command === "none") return null;
  if (tts.command === "auto") return defaultTtsCommand(platform, tts.timeoutMs);
  return { command: tts.command, args: tts.args, timeoutMs: tts.timeoutMs };
}

export async function startVoiceChannel(options: VoiceChannelOptions): Promise<RunningVoiceChannel> {
  const log = options.log ?? (() => {});
  const client = createNodeHubClient({ url: options.hubUrl, token: options.token, channel: "voice" });
  const speaker = createSpeaker({
    tts: ttsFromSettings(options.settings.tts),
    onSpoken: (outcome) => {
      if (!outcome.ok) log(`voice: could not speak "${outcome.text}": ${outcome.error}`);
    },
  });
  const adapter = createVoiceAdapter({
    client,
    speaker,
    activeThrottleMs: options.settings.activeThrottleMs,
    onError: (message) => log(`voice: ${message}`),
  });
  client.on("hub-error", ({ code, message }) => log(`voice: hub said ${code}: ${message}`));
  // Not awaited: until the hub answers, /status says so instead of hanging the caller.
  const ready = adapter.start();
  let server: Awaited<ReturnType<typeof startStatusServer>>;
  try {
    server = await startStatusServer({
      host: options.settings.host,
      port: options.settings.port,
      token: options.token,
      ...(options.security ? options.security : {}),
      answer: () => adapter.answer(),
      hear: (text) => adapter.hear(text),
    });
  } catch (error) {
    await adapter.stop();
    throw error;
  }
  return {
    url: server.url,
    adapter,
    ready,
    async close() {
      await server.close();
      await adapter.stop();
    },
  };
}
