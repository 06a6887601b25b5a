// The subscriber side of the fan-out benchmark, run as its own process: opens N WebSockets,
// triggers each change itself over HTTP and times its arrival at every socket on this one
// process's clock; or, one of several such processes, holds a share of 10,000 subscribers and
// reports arrivals on the machine's shared clock. Also the 1 s file poller that live push is
// compared with.

import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

export interface TriggerRequest {
  method: string;
  path: string;
  body: string;
}

export type HarnessJob =
  | {
      kind: "push";
      /** Base URL of the server under test; WebSockets go to `${url}/ws`. */
      url: string;
      /** Several hubs: the sockets are spread over these (round robin); triggers still go to `url`. */
      socketUrls?: string[];
      subscribers: number;
      /** One request per change; each must produce exactly one frame at every subscriber. */
      triggers: TriggerRequest[];
      warmup: number;
    }
  | {
      /**
       * The hub and a bare ws server side by side, change by change in turn, so that whatever
       * the machine does meanwhile falls on both alike: `subscribers` sockets to each, the hub
       * changed by `triggers[i]`, then the bare server sent the very frame the hub sent for it
       * (POST `${bareUrl}/relay` with that frame as the body).
       */
      kind: "alternate";
      hubUrl: string;
      bareUrl: string;
      subscribers: number;
      triggers: TriggerRequest[];
      warmup: number;
    }
  | { kind: "poll"; url: string; file: string; intervalMs: number; triggers: TriggerRequest[] }
  | {
      /**
       * One of several processes holding a share of the subscribers: it opens them, says
       * "ready", then for each change tells the parent (which triggers them) when its last
       * subscriber holds it, on the machine's clock shared by every process.
       */
      kind: "listen";
      url: string;
      subscribers: number;
    };

/** What an "alternate" harness measured: per change, its last receipt from each server. */
export interface AlternateResult {
  hub: number[];
  bare: number[];
}

/** What a "listen" harness tells its parent. */
export type ListenMessage =
  | { type: "ready"; heapAndExternal: number }
  | { type: "received"; change: number; lastAt: number };

/** Milliseconds on a clock every process on this machine shares (performance.now() is per process). */
export const sharedNow = () => performance.timeOrigin + performance.now();

export interface HarnessResult {
  /** Milliseconds from just before each trigger to each receipt (warm-up excluded). */
  latencies: number[];
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function send(url: string, trigger: TriggerRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${trigger.path}`,
      { method: trigger.method, agent, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () =>
          (res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`trigger got HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(trigger.body);
  });
}

function open(url: string, subscribe: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`);
    socket.once("error", reject);
    socket.once("open", () => {
      if (!subscribe) return resolve(socket);
      socket.send(JSON.stringify({ type: "subscribe", topics: ["context"] }));
      socket.once("message", () => resolve(socket));
    });
  });
}

/** Opens `count` connections with `open(i)`, 100 at a time. */
async function inBatches<S>(count: number, open: (index: number) => Promise<S>): Promise<S[]> {
  const opened: S[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Math.min(100, count - i);
    opened.push(...(await Promise.all(Array.from({ length: batch }, (_, k) => open(i + k)))));
  }
  return opened;
}

/** Opens the sockets in batches of 100, spread over `urls` (several hubs) round robin. */
const openAll = (urls: string[], subscribers: number, subscribe: boolean): Promise<WebSocket[]> =>
  inBatches(subscribers, (i) => open(urls[i % urls.length] as string, subscribe));

async function push(job: Extract<HarnessJob, { kind: "push" }>): Promise<HarnessResult> {
  const sockets = await openAll(job.socketUrls ?? [job.url], job.subscribers, true);
  // Receipt is stamped first: no parsing while the clock runs.
  let received = 0;
  let done: (() => void) | null = null;
  const stamps = new Float64Array(job.subscribers);
  sockets.forEach((socket, index) => {
    socket.on("message", () => {
      stamps[index] = performance.now();
      if (++received === job.subscribers) done?.();
    });
  });

  const latencies: number[] = [];
  for (let i = 0; i < job.triggers.length; i++) {
    received = 0;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    const started = performance.now();
    await Promise.all([send(job.url, job.triggers[i] as TriggerRequest), all]);
    if (i >= job.warmup) for (const stamp of stamps) latencies.push(stamp - started);
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the server settle between changes
  }
  for (const socket of sockets) socket.terminate();
  return { latencies };
}

const NOTHING = Buffer.alloc(0);

const TEXT = 0x1;
const PING = 0x9;
const PONG = 0xa;

/** A client's frame: masked, as RFC 6455 requires of every frame a client sends. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length >= 126) throw new Error("maskedFrame: keep the payload under 126 bytes");
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return frame;
}

/**
 * A subscriber on a plain TCP socket, for the fan-out comparison: Node reads each chunk into
 * `buffer` (one buffer every such socket shares) and hands it straight to a callback, with no
 * stream, event or Buffer per read. Read through ws's client, or even through a socket's "data"
 * events, the subscribers' process was the slow side at 1,000 subscribers and set the pace for
 * both servers alike (see the fan-out findings); read this way it keeps up, and the last receipt
 * follows the server's own send loop. The handshake and the subscribe message are written by hand.
 * `onText` gets the payload of every text frame after the subscription's snapshot (a heartbeat
 * ping is answered, and is not a change); the payload is only valid during the call.
 */
function openRaw(url: string, subscribe: boolean, buffer: Buffer, onText: (payload: Buffer) => void): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Bytes of a frame (or of the handshake's answer) that a read cut short, kept until the rest.
    let pending: Buffer = NOTHING;
    let upgraded = false;
    let subscribed = !subscribe;
    const readFrames = (bytes: Buffer): void => {
      let data = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
      while (data.length >= 2) {
        // Frames from a server are unmasked: a 2-byte header, 2 or 8 more for a longer payload.
        const short = (data[1] as number) & 0x7f;
        const header = short < 126 ? 2 : short === 126 ? 4 : 10;
        if (data.length < header) break;
        const length = short < 126 ? short : short === 126 ? data.readUInt16BE(2) : Number(data.readBigUInt64BE(2));
        if (data.length < header + length) break;
        const opcode = (data[0] as number) & 0x0f;
        // The hub drops a client that does not answer its heartbeat; a ping is not a change.
        if (opcode === PING) socket.write(maskedFrame(PONG, data.subarray(header, header + length)));
        if (opcode === TEXT) {
          if (subscribed) onText(data.subarray(header, header + length));
          else {
            subscribed = true; // the snapshot that answers the subscription
            resolve(socket);
          }
        }
        data = data.subarray(header + length);
      }
      // The shared buffer is read into again next time: what is left over is copied out.
      pending = data.length === 0 ? NOTHING : Buffer.from(data);
    };
    const readHandshake = (bytes: Buffer): void => {
      const data = Buffer.concat([pending, bytes]);
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) {
        pending = data;
        return;
      }
      const head = data.subarray(0, end).toString("latin1");
      if (!head.startsWith("HTTP/1.1 101")) {
        socket.destroy();
        reject(new Error(`${url}/ws did not upgrade: ${head.split("\r\n")[0]}`));
        return;
      }
      upgraded = true;
      pending = NOTHING;
      if (subscribe)
        socket.write(maskedFrame(TEXT, Buffer.from(JSON.stringify({ type: "subscribe", topics: ["context"] }))));
      else resolve(socket);
      readFrames(data.subarray(end + 4));
    };
    const socket = connect({
      host: hostname,
      port: Number(port),
      noDelay: true,
      onread: {
        buffer,
        callback: (bytes: number, into: Uint8Array): boolean => {
          const chunk = Buffer.from(into.buffer, into.byteOffset, bytes);
          if (upgraded) readFrames(chunk);
          else readHandshake(chunk);
          return true;
        },
      },
    });
    socket.once("error", reject);
    // A server that hangs up before the snapshot is refused now, not after the harness's time limit.
    socket.once("close", () =>
      reject(new Error(`${url}/ws closed before ${subscribe ? "the snapshot" : "the upgrade"}`)),
    );
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

async function alternate(job: Extract<HarnessJob, { kind: "alternate" }>): Promise<AlternateResult> {
  const result: AlternateResult = { hub: [], bare: [] };
  let received = 0;
  let lastAt = 0;
  let done: (() => void) | null = null;
  let frame = "";
  const onText = (payload: Buffer) => {
    lastAt = performance.now();
    if (received === 0) frame = payload.toString();
    if (++received === job.subscribers) done?.();
  };
  const buffer = Buffer.alloc(64 * 1024);
  const sockets = [
    ...(await inBatches(job.subscribers, () => openRaw(job.hubUrl, true, buffer, onText))),
    ...(await inBatches(job.subscribers, () => openRaw(job.bareUrl, false, buffer, onText))),
  ];
  const change = async (url: string, trigger: TriggerRequest): Promise<number> => {
    received = 0;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    const started = performance.now();
    await Promise.all([send(url, trigger), all]);
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the server settle between changes
    return lastAt - started;
  };
  for (let i = 0; i < job.triggers.length; i++) {
    const hub = await change(job.hubUrl, job.triggers[i] as TriggerRequest);
    const sent = frame;
    const bare = await change(job.bareUrl, { method: "POST", path: "/relay", body: sent });
    if (frame !== sent) throw new Error(`the bare server sent another frame than the hub's for change ${i}`);
    if (i >= job.warmup) {
      result.hub.push(hub);
      result.bare.push(bare);
    }
  }
  for (const socket of sockets) socket.destroy();
  return result;
}

/** Holds `job.subscribers` sockets until killed, reporting each change's last receipt. */
async function listen(job: Extract<HarnessJob, { kind: "listen" }>): Promise<void> {
  const sockets = await openAll([job.url], job.subscribers, true);
  const counts: number[] = [];
  const seen = new Int32Array(sockets.length);
  sockets.forEach((socket, index) => {
    socket.on("message", () => {
      const at = sharedNow();
      const change = seen[index] as number;
      seen[index] = change + 1;
      counts[change] = (counts[change] ?? 0) + 1;
      if (counts[change] === sockets.length) process.send?.({ type: "received", change, lastAt: at } as ListenMessage);
    });
  });
  const usage = process.memoryUsage();
  process.send?.({ type: "ready", heapAndExternal: usage.heapUsed + usage.external } as ListenMessage);
}

/** Reads the document file every interval; a change is seen when the file's text changes. */
async function poll(job: Extract<HarnessJob, { kind: "poll" }>): Promise<HarnessResult> {
  let last = await readFile(job.file, "utf8");
  let seen: ((at: number) => void) | null = null;
  const timer = setInterval(async () => {
    const text = await readFile(job.file, "utf8").catch(() => last);
    if (text !== last) {
      last = text;
      seen?.(performance.now());
    }
  }, job.intervalMs);
  const latencies: number[] = [];
  for (const trigger of job.triggers) {
    // Changes land at random phases of the polling cycle, as real ones do.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * job.intervalMs));
    const noticed = new Promise<number>((resolve) => {
      seen = resolve;
    });
    const started = performance.now();
    await send(job.url, trigger);
    latencies.push((await noticed) - started);
  }
  clearInterval(timer);
  return { latencies };
}

process.once("message", async (job: HarnessJob) => {
  try {
    if (job.kind === "listen") return await listen(job);
    const result =
      job.kind === "push" ? await push(job) : job.kind === "alternate" ? await alternate(job) : await poll(job);
    process.send?.({ ok: true, result }, () => process.exit(0));
  } catch (error) {
    process.send?.({ ok: false, error: (error as Error).stack }, () => process.exit(1));
  }
});
