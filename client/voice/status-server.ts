// The voice channel's own small HTTP server, for a phone shortcut or a smart-speaker bridge:
// `GET /status` → {"text": …} to read aloud, and `POST /utterance {"text": …}` → {"text": …}, what
// to say back to what the phone heard. Loopback by default; a token, when set, is required.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as z from "zod";
import {
  type AccessPolicy,
  bareHost,
  isHostAllowed,
  isLoopbackAddress,
  isLoopbackHost,
  isOriginAllowed,
  isTokenValid,
  presentedToken,
  unresolvableHost,
} from "../../shared/access-policy.ts";
import { LIMITS } from "../../shared/schemas.ts";

export interface StatusServerOptions {
  host: string;
  port: number;
  /** When set, callers must send it as `Authorization: Bearer …` or `?token=…`. */
  token: string | null;
  /**
   * The hub's Host and Origin rules (`security.allowedHosts` / `allowedOrigins`): loopback Host
   * names only unless configured, no foreign Origin (DNS rebinding, cross-site reads).
   */
  allowedHosts?: string[];
  allowedOrigins?: string[];
  /** The sentence to serve; called once per request. */
  answer: () => string;
  /** What to say back to a heard sentence (POST /utterance); absent, the path is not served. */
  hear?: (text: string) => Promise<string>;
}

/** The largest POST /utterance body; a spoken sentence is a few hundred bytes. */
export const MAX_UTTERANCE_BYTES = 16 * 1024;
/** The longest heard text taken (the hub's own limit on a follow-up's text). */
export const MAX_UTTERANCE_CHARS = LIMITS.prompt;

const utteranceSchema = z.strictObject({
  text: z
    .string({ error: 'must be the text the phone heard, e.g. {"text": "status"}' })
    .min(1, "must not be empty: send what was said")
    .max(MAX_UTTERANCE_CHARS, `must be at most ${MAX_UTTERANCE_CHARS} characters`),
});

export interface StatusServer {
  url: string;
  close(): Promise<void>;
}

export class VoiceStartError extends Error {}

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  if (!isLoopbackHost(options.host) && !options.token) {
    throw new VoiceStartError(
      `refusing to serve the voice status on ${options.host} without a token: set SWITCHBOARD_TOKEN, or use host 127.0.0.1`,
    );
  }
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: Error) => {
      if (!response.headersSent) send(response, 500, { error: { code: "internal", message: error.message } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    // A name that does not resolve is the person's to fix: one line, as the hub says it.
    const failed = (error: NodeJS.ErrnoException) =>
      reject(
        error.syscall === "getaddrinfo"
          ? new VoiceStartError(unresolvableHost(options.host, String(error.code), "serve the voice status on"))
          : error,
      );
    server.once("error", failed);
    // Bare, as checked: listen would look a bracketed "[::1]" up as a name.
    server.listen(options.port, bareHost(options.host), () => {
      server.off("error", failed);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // The address actually bound decides, not how the name looked.
  if (!isLoopbackAddress(address.address) && !options.token) {
    await closeServer(server);
    throw new VoiceStartError(
      `refusing to serve the voice status on ${options.host} (${address.address}) without a token: set SWITCHBOARD_TOKEN, or use host 127.0.0.1`,
    );
  }
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () => closeServer(server),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: StatusServerOptions): Promise<void> {
  const policy: AccessPolicy = {
    token: options.token,
    allowedHosts: options.allowedHosts ?? [],
    allowedOrigins: options.allowedOrigins ?? [],
  };
  const host = request.headers.host;
  if (!isHostAllowed(host, policy)) {
    send(response, 403, {
      error: {
        code: "forbidden",
        message: `the Host header ${JSON.stringify(host ?? "")} is not allowed; add it to security.allowedHosts in config.json`,
      },
    });
    return;
  }
  if (!isOriginAllowed(request.headers.origin, host, policy)) {
    send(response, 403, {
      error: {
        code: "forbidden",
        message: `the origin ${request.headers.origin} may not use the voice channel; add it to security.allowedOrigins in config.json`,
      },
    });
    return;
  }
  const url = new URL(request.url ?? "/", "http://voice.local");
  const route =
    url.pathname === "/status" ? "status" : url.pathname === "/utterance" && options.hear ? "utterance" : null;
  if (!route) {
    const served = options.hear ? "GET /status and POST /utterance" : "GET /status";
    send(response, 404, { error: { code: "not_found", message: `the voice channel serves only ${served}` } });
    return;
  }
  const allowed = route === "status" ? ["GET", "HEAD"] : ["POST"];
  if (!allowed.includes(request.method ?? "")) {
    response.setHeader("allow", allowed.join(", "));
    const use = route === "status" ? "use GET /status" : 'use POST /utterance with {"text": "…"}';
    send(response, 405, { error: { code: "invalid_input", message: use } });
    return;
  }
  // A phone shortcut may only be able to put the token in the address, so ?token= counts here.
  if (
    !isTokenValid(
      policy.token,
      presentedToken(request.headers.authorization, url.searchParams.get("token") ?? undefined),
    )
  ) {
    send(response, 401, {
      error: { code: "unauthorized", message: "send the token as Authorization: Bearer <token> or ?token=<token>" },
    });
    return;
  }
  if (route === "status") {
    send(response, 200, { text: options.answer() });
    return;
  }
  const body = await readBody(request, MAX_UTTERANCE_BYTES);
  if (body === null) {
    send(response, 413, {
      error: {
        code: "too_large",
        message: `the body may be at most ${MAX_UTTERANCE_BYTES} bytes; send only what was said`,
      },
    });
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    send(response, 400, {
      error: {
        code: "invalid_input",
        message: 'the body must be JSON like {"text": "status"} (content-type application/json)',
      },
    });
    return;
  }
  const utterance = utteranceSchema.safeParse(parsed);
  if (!utterance.success) {
    const issue = utterance.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "body";
    send(response, 400, { error: { code: "invalid_input", message: `${where}: ${issue?.message ?? "invalid"}` } });
    return;
  }
  send(response, 200, { text: await (options.hear as NonNullable<StatusServerOptions["hear"]>)(utterance.data.text) });
}

/** The body as text, or null once it passes `limit` bytes (the rest is not read). */
function readBody(request: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the 413 still reaches the caller.
      if (size <= limit) chunks.push(chunk);
      else resolve(null);
    });
    request.on("end", () => resolve(size > limit ? null : Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  response.end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
