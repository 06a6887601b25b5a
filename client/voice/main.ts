// `npm run voice -- --hub URL [--port N] [--host H] [--tts COMMAND|auto|none]`: the voice channel on its own.

import { VOICE_DEFAULTS, type VoiceSettings } from "../../shared/defaults.ts";
import { parseStandaloneArgs, runStandalone, usageError } from "../standalone.ts";
import { VoiceStartError } from "./status-server.ts";
import { startVoiceChannel } from "./voice-channel.ts";

const command = {
  name: "voice",
  usage: `Usage: npm run voice -- --hub URL [--port N] [--host H] [--tts COMMAND|auto|none]

Runs the voice channel: keeps a live mirror of the hub, serves GET /status -> {"text": ...} and POST /utterance {"text": ...} -> {"text": ...}
on http://HOST:PORT (default http://127.0.0.1:${VOICE_DEFAULTS.port}), and speaks milestones
through a text-to-speech command (auto: espeak-ng on Linux, say on macOS).
The token, if the hub has one, comes from SWITCHBOARD_TOKEN.`,
};

function parse(argv: string[]): { hub: string; settings: VoiceSettings } {
  const { hub, values } = parseStandaloneArgs(command, argv, {
    port: { type: "string" },
    host: { type: "string" },
    tts: { type: "string" },
  });
  const settings: VoiceSettings = structuredClone(VOICE_DEFAULTS);
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      usageError(command, `--port must be a port number from 0 to 65535 (got ${JSON.stringify(values.port)})`);
    }
    settings.port = port;
  }
  if (values.host !== undefined) settings.host = String(values.host);
  if (values.tts !== undefined) settings.tts.command = String(values.tts);
  return { hub, settings };
}

const { hub, settings } = parse(process.argv.slice(2));
await runStandalone(command, hub, {
  start: ({ hubUrl, hubToken, log }) => startVoiceChannel({ hubUrl, token: hubToken, settings, log: log.info }),
  isSetupError: (error) => error instanceof VoiceStartError || (error as NodeJS.ErrnoException).code === "EADDRINUSE",
  started: (channel) => `listening on ${channel.url} (GET /status, POST /utterance), following the hub at ${hub}`,
  connected: (channel) => channel.ready,
  stop: (channel) => channel.close(),
});
