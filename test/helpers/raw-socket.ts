// Frame-level test clients: a raw `ws` socket that records every frame the hub sends, and a
// plain HTTP request whose headers (Host, Origin) are entirely the caller's.

import { request as httpRequest } from "node:http";
import { expect, vi } from "vitest";
import WebSocket from "ws";
import type { ServerFrame } from "../../shared/schemas.ts";

export interface RawSocket {
  socket: WebSocket;
  /** Every frame received, parsed, in order. */
  frames: ServerFrame[];
  /** The same frames exactly as their bytes arrived. */
  texts: string[];
  send(frame: unknown): void;
  /** Resolves once at least `count` frames have arrived; returns them all. */
  waitForFrames(count: number, what?: string): Promise<ServerFrame[]>;
  closed: Promise<{ code: number; reason: string }>;
}

export function wsUrl(hubUrl: string, query = ""): string {
  return `${hubUrl.replace(/^http/, "ws")}/ws${query}`;
}

/** Opens a raw WebSocket to the hub; rejects with the HTTP status when the upgrade is refused. */
export function openRawSocket(hubUrl: string, options: { headers?: Record<string, string>; query?: string } = {}) {
  return new Promise<RawSocket>((resolve, reject) => {
    const socket = new WebSocket(wsUrl(hubUrl, options.query), { headers: options.headers ?? {} });
    const frames: ServerFrame[] = [];
    const texts: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((done) => {
      socket.on("close", (code, reason) => done({ code, reason: reason.toString() }));
    });
    socket.on("message", (data) => {
      const text = String(data);
      texts.push(text);
      frames.push(JSON.parse(text) as ServerFrame);
    });
    socket.on("unexpected-response", (request, response) => {
      reject(new UpgradeRefused(response.statusCode ?? 0));
      request.destroy();
    });
    socket.on("error", (error) => reject(error));
    socket.on("open", () =>
      resolve({
        socket,
        frames,
        texts,
        closed,
        send: (frame) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
        async waitForFrames(count, what = `${count} frames`) {
          // vi.waitFor, not expect.poll: suites call this from their hooks too.
          await vi.waitFor(() => expect(frames.length, what).toBeGreaterThanOrEqual(count), {
            timeout: 10_000,
            interval: 10,
          });
          return frames;
        },
      }),
    );
  });
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

export interface RawResponse {
  status: number;
  body: unknown;
}

/** An HTTP request with exactly the headers given (fetch would not let a test forge Host). */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? "GET", headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
      });
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

export const json = { "content-type": "application/json" } as const;
