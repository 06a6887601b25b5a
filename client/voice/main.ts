// `npm run voice -- --hub URL [--port N] [--host H] [--tts COMMAND|auto|none]`: the voice channel on its own.
import { parseArgs } from "node:util";
import { VoiceStartError } from "./status-server.ts";
import { startVoiceChannel, VOICE_DEFAULTS, type VoiceSettings } from "./voice-channel.ts";

const USAGE = `Usage: npm run voice -- --hub URL [--port N] [--host H] [--tts COMMAND|auto|none]

Runs the voice channel: keeps a live mirror of the hub, serves GET /status -> {"text": ...}
on http://HOST:PORT (default http://127.0.0.1:${VOICE_DEFAULTS.port}), and speaks milestones
through a text-to-speech command (auto: espeak-ng on Linux, say on macOS).
The token, if the hub has one, comes from SWITCHBOARD_TOKEN.`;

function usageError(message: string): never {
  process.stderr.write(`voice: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv: string[]): { hub: string; settings: VoiceSettings } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        hub: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        tts: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    usageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const hub = String(values.hub ?? "http://127.0.0.1:7433");
  try {
    const url = new URL(hub);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
  } catch {
    usageError(`--hub must be an http:// or https:// URL, like http://127.0.0.1:7433 (got ${JSON.stringify(hub)})`);
  }
  const settings: VoiceSettings = structuredClone(VOICE_DEFAULTS);
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      usageError(`--port must be a port number from 0 to 65535 (got ${JSON.stringify(values.port)})`);
    }
    settings.port = port;
  }
  if (values.host !== undefined) settings.host = String(values.host);
  if (values.tts !== undefined) settings.tts.command = String(values.tts);
  return { hub, settings };
}

const { hub, settings } = parse(process.argv.slice(2));
const token = process.env.SWITCHBOARD_TOKEN?.trim() || null;
let channel: Awaited<ReturnType<typeof startVoiceChannel>>;
try {
  channel = await startVoiceChannel({
    hubUrl: hub,
    token,
    settings,
    log: (message) => process.stderr.write(`${message}\n`),
  });
} catch (error) {
  if (error instanceof VoiceStartError || (error as NodeJS.ErrnoException).code === "EADDRINUSE") {
    process.stderr.write(`voice: ${(error as Error).message}\n`);
    process.exit(2);
  }
  throw error;
}
process.stdout.write(`voice: listening on ${channel.url} (GET /status), following the hub at ${hub}\n`);
void channel.ready.then(() => process.stdout.write("voice: connected to the hub\n"));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const forced = setTimeout(() => process.exit(1), 5000);
  forced.unref();
  await channel.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
