// Hub memory per idle WebSocket connection, against a bare `ws` server measured the same way:
// each server runs in its own process, and its RSS after a full GC is read before and after
// 1,000 subscribed, idle connections are opened.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import WebSocket from "ws";
import type { Benchmark, BenchRow } from "./report.ts";
import { verdict } from "./report.ts";

const CONNECTIONS = 1000;
const TARGET_KB = 30;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  lines: Interface;
  measure(): Promise<NodeJS.MemoryUsage>;
  stop(): Promise<void>;
}

export async function spawnServer(kind: "hub" | "ws"): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", "bench/memory-server.ts", kind], {
    cwd: `${import.meta.dirname}/..`,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: ((line: string) => void)[] = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const url = (await nextLine()).replace(/^url /, "");
  return {
    child,
    url,
    lines,
    async measure() {
      const answer = nextLine();
      child.stdin?.write("measure\n");
      return JSON.parse((await answer).replace(/^memory /, "")) as NodeJS.MemoryUsage;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin?.write("stop\n");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function openSubscribed(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`);
    socket.once("error", reject);
    socket.once("open", () => socket.send(JSON.stringify({ type: "subscribe", topics: ["context", "health"] })));
    socket.once("message", () => resolve(socket));
  });
}

async function openMany(url: string, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 100) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => openSubscribed(url)))));
  }
  return sockets;
}

/** Bytes of server memory each idle, subscribed connection costs. */
async function perConnection(kind: "hub" | "ws"): Promise<{ rss: number; heap: number }> {
  const server = await spawnServer(kind);
  try {
    // Warm up the code paths so the baseline already holds the compiled code.
    for (const socket of await openMany(server.url, 50)) socket.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = await server.measure();
    const sockets = await openMany(server.url, CONNECTIONS);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await server.measure();
    for (const socket of sockets) socket.terminate();
    const heapOf = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external;
    return {
      rss: (after.rss - before.rss) / CONNECTIONS,
      heap: (heapOf(after) - heapOf(before)) / CONNECTIONS,
    };
  } finally {
    await server.stop();
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const memory: Benchmark = {
  name: "memory",
  async run(): Promise<BenchRow[]> {
    const hub = await perConnection("hub");
    const bare = await perConnection("ws");
    return [
      {
        name: `hub memory (RSS) per idle subscribed connection, ${CONNECTIONS.toLocaleString("en")} connections`,
        figure: kb(hub.rss),
        comparison: `bare ws ${kb(bare.rss)}`,
        ratio: bare.rss > 0 ? `${(hub.rss / bare.rss).toFixed(2)}× of bare ws` : "—",
        target: `≤ ${TARGET_KB} KB — ${verdict(hub.rss <= TARGET_KB * 1024)}`,
      },
      {
        name: "hub heap + external per idle subscribed connection",
        figure: kb(hub.heap),
        comparison: `bare ws ${kb(bare.heap)}`,
        ratio: bare.heap > 0 ? `${(hub.heap / bare.heap).toFixed(2)}× of bare ws` : "—",
        target: "—",
      },
    ];
  },
};

export default memory;
