// A server process for the memory benchmark: the hub, or a bare `ws` server doing the least
// that still answers a subscribe with a snapshot. Prints its URL, then answers "measure" on
// stdin with its memory after a full garbage collection (run with --expose-gc).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { WebSocketServer } from "ws";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { startHub } from "../server/start.ts";

const kind = process.argv[2];
let stop: () => Promise<void>;
let url: string;

if (kind === "hub") {
  const dataDir = await mkdtemp(join(tmpdir(), "switchboard-bench-memory-"));
  // No backends: their pings (and the modules a first ping loads) would land between the
  // baseline and the connected measurement and be charged to the connections.
  const config = parseConfig({ port: 0, dataDir, logLevel: "silent", backends: {}, persistence: { fsync: false } });
  const running = await startHub({ config, secrets: { token: null }, logger: silentLogger });
  url = running.url;
  stop = async () => {
    await running.close();
    await rm(dataDir, { recursive: true, force: true });
  };
} else if (kind === "ws") {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  const snapshot = JSON.stringify({
    type: "snapshot",
    topic: "context",
    epoch: "bare",
    version: 0,
    data: { lastUpdated: new Date().toISOString(), activeTasks: [], recentCompleted: [], channelHistory: {} },
  });
  server.on("connection", (socket) => socket.on("message", () => socket.send(snapshot)));
  const address = server.address() as { port: number };
  url = `http://127.0.0.1:${address.port}`;
  stop = () => new Promise((resolve) => server.close(() => resolve()));
} else {
  process.stderr.write("usage: memory-server.ts hub|ws\n");
  process.exit(2);
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

process.stdout.write(`url ${url}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "measure") {
    for (let i = 0; i < 3; i++) gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    process.stdout.write(`memory ${JSON.stringify(process.memoryUsage())}\n`);
  } else if (line === "stop") {
    await stop();
    process.exit(0);
  }
}
