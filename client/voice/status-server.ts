// The voice channel's own small HTTP server: `GET /status` → {"text": …} for a phone shortcut or a
// smart-speaker bridge to read aloud. Loopback by default; a token, when set, is required.
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StatusServerOptions {
  host: string;
  port: number;
  /** When set, callers must send it as `Authorization: Bearer …` or `?token=…`. */
  token: string | null;
  /** The sentence to serve; called once per request. */
  answer: () => string;
}

export interface StatusServer {
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export class VoiceStartError extends Error {}

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  if (!LOOPBACK.has(options.host) && !options.token) {
    throw new VoiceStartError(
      `refusing to serve the voice status on ${options.host} without a token: set SWITCHBOARD_TOKEN, or use host 127.0.0.1`,
    );
  }
  const server = createServer((request, response) => handle(request, response, options));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () => closeServer(server),
  };
}

function handle(request: IncomingMessage, response: ServerResponse, options: StatusServerOptions): void {
  const url = new URL(request.url ?? "/", "http://voice.local");
  if (url.pathname !== "/status") {
    send(response, 404, { error: { code: "not_found", message: "the voice channel serves only GET /status" } });
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    send(response, 405, { error: { code: "invalid_input", message: "use GET /status" } });
    return;
  }
  if (options.token && !tokenMatches(request, url, options.token)) {
    send(response, 401, {
      error: { code: "unauthorized", message: "send the token as Authorization: Bearer <token> or ?token=<token>" },
    });
    return;
  }
  send(response, 200, { text: options.answer() });
}

function tokenMatches(request: IncomingMessage, url: URL, token: string): boolean {
  const header = request.headers.authorization?.match(/^bearer\s+(.+)$/i)?.[1];
  const given = header ?? url.searchParams.get("token") ?? "";
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
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
