// The subscriber side of the fan-out benchmark, run as its own process: opens N WebSockets,
// triggers each change itself over HTTP and times its arrival at every socket on this one
// process's clock. Also the 1 s file poller that live push is compared with.
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
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
      subscribers: number;
      /** Send a context subscribe frame and wait for its snapshot (the hub), or just connect (bare ws). */
      subscribe: boolean;
      /** One request per change; each must produce exactly one frame at every subscriber. */
      triggers: TriggerRequest[];
      warmup: number;
    }
  | { kind: "poll"; url: string; file: string; intervalMs: number; triggers: TriggerRequest[] };

export interface HarnessResult {
  /** Milliseconds from just before each trigger to each receipt (warm-up excluded). */
  latencies: number[];
  /** The frames the first subscriber received, one per change, exactly as sent. */
  frames: string[];
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

async function push(job: Extract<HarnessJob, { kind: "push" }>): Promise<HarnessResult> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < job.subscribers; i += 100) {
    const batch = Math.min(100, job.subscribers - i);
    sockets.push(...(await Promise.all(Array.from({ length: batch }, () => open(job.url, job.subscribe)))));
  }
  // Receipt is stamped first and the frame kept raw: no parsing while the clock runs.
  let received = 0;
  let done: (() => void) | null = null;
  const stamps = new Float64Array(job.subscribers);
  const firstFrames: string[] = [];
  let current: Buffer | null = null;
  sockets.forEach((socket, index) => {
    socket.on("message", (data: Buffer) => {
      stamps[index] = performance.now();
      if (index === 0) current = data;
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
    firstFrames.push(String(current));
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the server settle between changes
  }
  for (const socket of sockets) socket.terminate();
  return { latencies, frames: firstFrames };
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
  return { latencies, frames: [] };
}

process.once("message", async (job: HarnessJob) => {
  try {
    const result = job.kind === "push" ? await push(job) : await poll(job);
    process.send?.({ ok: true, result }, () => process.exit(0));
  } catch (error) {
    process.send?.({ ok: false, error: (error as Error).stack }, () => process.exit(1));
  }
});
