// Fan-out latency: from a change made over REST to its arrival at every subscriber, at 1, 100
// and 1,000 subscribers in a separate process; change by change in turn with a bare `ws` server
// that broadcasts the very frame the hub sent, to as many subscribers in the same harness; and
// against polling the JSON file each second.

import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { parseConfig } from "../server/config.ts";
import { silentLogger } from "../server/log.ts";
import { CONTEXT_FILE, startHub } from "../server/start.ts";
import type { AlternateResult, TriggerRequest } from "./fanout-harness.ts";
import { type Benchmark, type BenchRow, ms, percentile, sorted, verdict } from "./report.ts";
import { runHarness } from "./run-harness.ts";

/** Subscriber counts; `FANOUT_SIZES=1000 npm run bench -- fanout` runs just one. */
const SIZES = (process.env.FANOUT_SIZES?.split(",").map(Number) ?? [1, 100, 1000]) as (1 | 100 | 1000)[];
/** Changes measured at each size, the hub's and the bare server's in turn, after WARMUP of each. */
const CHANGES: Record<(typeof SIZES)[number], number> = { 1: 300, 100: 200, 1000: 300 };
const WARMUP = 20;
const POLL_INTERVAL_MS = 1000;
const POLL_CHANGES = 10;
const TASK_ID = "route_fanout";

const updates = (count: number): TriggerRequest[] =>
  Array.from({ length: count }, (_, i) => ({
    method: "PATCH",
    path: `/api/context/tasks/${TASK_ID}`,
    body: JSON.stringify({ lastUpdate: `step ${i} of the fan-out run`, progress: (i % 100) / 100 }),
  }));

async function withHub<T>(run: (url: string, dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), "switchboard-fanout-"));
  const hub = await startHub({
    // No backends: a first ping's processes, a second into the run, would be measured as push latency.
    config: parseConfig({ port: 0, dataDir, logLevel: "silent", backends: {} }),
    secrets: { token: null },
    logger: silentLogger,
  });
  try {
    await hub.taskContext.addTask({ taskId: TASK_ID, description: "Fan-out benchmark", startedFrom: "cli" });
    return await run(hub.url, dataDir);
  } finally {
    await hub.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A bare ws server: POST /relay sends its body, read as one Buffer, to every client. */
async function withBareWs<T>(run: (url: string) => Promise<T>): Promise<T> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => {
      if (req.url !== "/relay") return res.writeHead(404).end();
      const frame = Buffer.concat(parts);
      for (const client of wss.clients) client.send(frame, { binary: false });
      res.writeHead(204).end();
    });
  });
  const wss = new WebSocketServer({ server, path: "/ws" });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    return await run(`http://127.0.0.1:${port}`);
  } finally {
    for (const client of wss.clients) client.terminate();
    wss.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let hubMeanAtOne = Number.NaN;
  for (const subscribers of SIZES) {
    const triggers = updates(CHANGES[subscribers] + WARMUP);
    // Each change's last receipt: when every subscriber holds it.
    const measured = await withHub((hubUrl) =>
      withBareWs((bareUrl) =>
        runHarness<AlternateResult>({ kind: "alternate", hubUrl, bareUrl, subscribers, triggers, warmup: WARMUP }),
      ),
    );
    if (subscribers === 1) hubMeanAtOne = mean(measured.hub);
    const h = sorted(measured.hub);
    const b = sorted(measured.bare);
    const [h50, h99, b50, b99] = [percentile(h, 50), percentile(h, 99), percentile(b, 50), percentile(b, 99)];
    const atTarget = subscribers === 1000;
    rows.push({
      name: `fan-out latency, REST change → last receipt, ${subscribers.toLocaleString("en")} subscriber${subscribers > 1 ? "s" : ""} in another process (p50 / p99 of ${h.length} changes, in turn with the bare server's)`,
      figure: `${ms(h50)} / ${ms(h99)}`,
      comparison: `bare ws broadcasting in-process ${ms(b50)} / ${ms(b99)}`,
      ratio: `p50 ${(h50 / b50).toFixed(2)}×, p99 ${(h99 / b99).toFixed(2)}× of bare ws`,
      target: atTarget ? `p50 and p99 ≤ 1.0× bare ws — ${verdict(h50 <= b50 && h99 <= b99)}` : "—",
    });
  }

  // The polling comparison is against one live subscriber: one reader either way.
  if (!SIZES.includes(1)) return rows;
  const polled = await withHub((url, dataDir) =>
    runHarness({
      kind: "poll",
      url,
      file: join(dataDir, CONTEXT_FILE),
      intervalMs: POLL_INTERVAL_MS,
      triggers: updates(POLL_CHANGES),
    }),
  );
  const pollMean = mean(polled.latencies);
  const advantage = pollMean / hubMeanAtOne;
  rows.push({
    name: "mean latency, live push (1 subscriber) vs reading the JSON file every 1 s",
    figure: ms(hubMeanAtOne),
    comparison: `1 s file polling ${ms(pollMean, 0)} (${POLL_CHANGES} changes)`,
    ratio: `${advantage.toFixed(0)}× lower`,
    target: `≥ 100× lower — ${verdict(advantage >= 100)}`,
  });
  return rows;
}

const benchmark: Benchmark = {
  name: "fanout",
  run,
  // From timestamps inside the bench process (both servers) and the harness, 2026-12-03, Node 20.
  findings: [
    "Fan-out at 1,000 subscribers (2026-12-03): the hub and a bare ws server tie, and whether a run meets the " +
      "target (p50 and p99 at most 1.0×) is chance. Over about twenty runs today p50 came out 0.97-1.08× and p99 " +
      "0.86-1.31×. The subscribers read through Node's onread into one shared buffer (bench/fanout-harness.ts): " +
      "read through ws's client, or through a socket's data events, their process fell behind the server's writes " +
      "and set the pace for both servers alike. Now either server's send loop over 1,000 sockets takes 10.0-10.1 ms " +
      "and the first to last receipt 9.5-9.9 ms, so the last frame is read as soon as it is written. What separates " +
      "the two comes before the first send. The hub starts sending about 0.6 ms after the request reaches the " +
      "process: fastify's pipeline with the body about 0.28 ms, zod checking the id and the update about 0.16 ms, " +
      "the change applied, held to the context's limits and diffed about 0.14 ms. The bare server starts 0.14 ms " +
      "after, once Node's HTTP server hands it the body. In a warm loop zod's two checks take under 10 µs against " +
      "0.16 ms here, so caches gone cold during the other server's turn and the pause between changes likely " +
      "account for part of the 0.6 ms (not examined further). The send loop cannot make up the difference. A loop " +
      "with no checks at all, writing the hub's prebuilt frame to each socket, took 9.7 ms against 10.0 ms for ws's " +
      "send. In a scratch test (not kept), 1,000 write(2) calls to loopback sockets take about 8.1 ms on this " +
      "virtual machine, net.Socket's write 8.3 ms, ws's send 9.5 ms: the kernel's part of each write sets the " +
      "floor. Meeting the target would take the hub's whole path to its first send (fastify, the checks, apply and " +
      "diff) costing no more than a bare HTTP server handing over a body, about 0.45 ms less than now. Not done: " +
      "sending before the change is checked, or delaying its save until the subscribers have it.",
  ],
};
export default benchmark;
