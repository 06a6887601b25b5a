// The hub client for Node programs (adapters, CLI, tests): HubClient over the `ws` package and
// node:http, each loaded when first used. Node's own fetch loads undici and its WebAssembly HTTP
// parser on the first request, and ws brings tls and zlib: together most of the start-up of a
// command that asks one REST question (`switchboard status`) or none (`--help`).
import type { IncomingMessage } from "node:http";
import type WebSocket from "ws";
import { HubClient, type HubClientOptions, type SocketLike } from "./hub-client.ts";

export type NodeHubClientOptions = Omit<HubClientOptions, "socket"> & Partial<Pick<HubClientOptions, "socket">>;

export function createNodeHubClient(options: NodeHubClientOptions): HubClient {
  return new HubClient({ socket: nodeSocket, fetch: nodeFetch, ...options });
}

/**
 * The part of fetch HubClient uses (method, headers, a string body; status, headers.get and text), over
 * node:http or node:https. A network failure is a TypeError whose cause is the system error,
 * as with fetch.
 */
const nodeFetch = (async (input: URL, init: { method: string; headers: Record<string, string>; body?: string }) => {
  const { request } = input.protocol === "https:" ? await import("node:https") : await import("node:http");
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = request(input, { method: init.method, headers: init.headers }, resolve);
    outgoing.once("error", (error) => reject(new TypeError("fetch failed", { cause: error })));
    outgoing.end(init.body);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const status = response.statusCode ?? 0;
  const text = Buffer.concat(chunks).toString("utf8");
  const header = (name: string) => {
    const value = response.headers[name.toLowerCase()];
    return value === undefined ? null : String(value);
  };
  return { status, ok: status >= 200 && status < 300, headers: { get: header }, text: async () => text };
}) as unknown as typeof fetch;

let loading: Promise<typeof WebSocket> | null = null;
const loadWebSocket = () => {
  loading ??= import("ws").then((module) => module.default);
  return loading;
};

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/**
 * A ws socket to `url`, opened once ws is loaded; the handlers set on it meanwhile are the ones
 * called. Closing it before then ends it without connecting (with a close event, like ws).
 */
function nodeSocket(url: string, headers: Record<string, string>): SocketLike {
  let socket: WebSocket | null = null;
  let closedEarly: { code: number; reason: string } | null = null;
  const handle: SocketLike = {
    readyState: CONNECTING,
    send(data) {
      if (!socket) throw new Error("WebSocket is not open: readyState 0 (CONNECTING)");
      socket.send(data);
    },
    close(code, reason) {
      if (socket) socket.close(code, reason);
      else closedEarly ??= { code: code ?? 1005, reason: reason ?? "" };
    },
    onopen: null,
    onclose: null,
    onerror: null,
    onmessage: null,
  };
  const fail = (error: Error, code: number) => {
    handle.readyState = CLOSED;
    handle.onerror?.(error);
    handle.onclose?.({ code, reason: error.message });
  };
  loadWebSocket().then(
    (WebSocketClass) => {
      if (closedEarly) {
        handle.readyState = CLOSED;
        handle.onclose?.(closedEarly);
        return;
      }
      try {
        socket = new WebSocketClass(url, { headers });
      } catch (error) {
        fail(error as Error, 1006);
        return;
      }
      socket.onopen = (event) => {
        handle.readyState = OPEN;
        handle.onopen?.(event);
      };
      socket.onmessage = (event) => handle.onmessage?.(event);
      socket.onerror = (event) => handle.onerror?.(event);
      socket.onclose = (event) => {
        handle.readyState = CLOSED;
        handle.onclose?.(event);
      };
    },
    (error: Error) => fail(error, 1006),
  );
  return handle;
}
