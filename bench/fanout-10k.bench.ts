// Fan-out at 10,000 subscribers spread over several other processes: each change's REST request
// to its last receipt (on the machine's shared clock) beside the hub's own answer to that request
// (which says how much of it is the hub's), and the hub's memory per idle subscribed connection,
// with the hub in a process of its own (bench/memory-server.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { type HarnessJob, type ListenMessage, sharedNow } from "./fanout-harness.ts";
import { spawnServer } from "./memory.bench.ts";
import { type Benchmark, type BenchRow, ms, percentile, sorted, verdict } from "./report.ts";

const SUBSCRIBERS = 10_000;
const PROCESSES = 4;
const CHANGES = 60;
const WARMUP = 5;
const TARGET_P99_MS = 250;
const TARGET_KB = 12;
const TASK_ID = "route_fanout_10k";

interface Listener {
  child: ChildProcess;
  ready: Promise<void>;
}

function spawnListener(
  url: string,
  subscribers: number,
  onReceived: (change: number, lastAt: number) => void,
): Listener {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/fanout-harness.ts"], {
    cwd: join(import.meta.dirname, ".."),
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`a subscriber process exited with ${code}`)));
    child.on("message", (message: ListenMessage) => {
      if (message.type === "ready") resolve();
      else onReceived(message.change, message.lastAt);
    });
  });
  child.send({ kind: "listen", url, subscribers } satisfies HarnessJob);
  return { child, ready };
}

async function request(url: string, method: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status}`);
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const benchmark: Benchmark = {
  name: "fanout-10k",
  async run(): Promise<BenchRow[]> {
    const hub = await spawnServer("hub");
    const listeners: Listener[] = [];
    try {
      await request(`${hub.url}/api/context/tasks`, "POST", {
        taskId: TASK_ID,
        description: "Fan-out at ten thousand",
        startedFrom: "cli",
      });
      const before = await hub.measure();
      // Per change: how many processes hold it at every subscriber, and the latest of their last receipts.
      const arrivals: { processes: number; lastAt: number; done: () => void }[] = [];
      const arrival = (change: number) => {
        arrivals[change] ??= { processes: 0, lastAt: 0, done: () => undefined };
        return arrivals[change];
      };
      const share = SUBSCRIBERS / PROCESSES;
      for (let p = 0; p < PROCESSES; p++) {
        listeners.push(
          spawnListener(hub.url, share, (change, lastAt) => {
            const entry = arrival(change);
            entry.processes++;
            entry.lastAt = Math.max(entry.lastAt, lastAt);
            if (entry.processes === PROCESSES) entry.done();
          }),
        );
        // One process at a time: the hub accepts connections in bursts it can answer.
        await listeners[p]?.ready;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await hub.measure();

      const lastReceipts: number[] = [];
      // The hub answers the PATCH once it has written the change to every subscriber (and saved
      // it): that answer's time is the hub's share, the rest is the subscriber processes reading.
      const answers: number[] = [];
      for (let change = 0; change < WARMUP + CHANGES; change++) {
        const entry = arrival(change);
        const held = new Promise<void>((resolve) => {
          entry.done = resolve;
        });
        const started = sharedNow();
        await request(`${hub.url}/api/context/tasks/${TASK_ID}`, "PATCH", {
          lastUpdate: `change ${change} of the 10,000-subscriber run`,
          progress: (change % 100) / 100,
        });
        const answeredAt = sharedNow();
        if (entry.processes < PROCESSES) await held;
        if (change >= WARMUP) {
          lastReceipts.push(entry.lastAt - started);
          answers.push(answeredAt - started);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const receipts = sorted(lastReceipts);
      const [p50, p99] = [percentile(receipts, 50), percentile(receipts, 99)];
      const answered = sorted(answers);
      const rss = (after.rss - before.rss) / SUBSCRIBERS;
      const heap = (after.heapUsed + after.external - before.heapUsed - before.external) / SUBSCRIBERS;
      return [
        {
          name: `fan-out latency, REST change → last receipt, ${SUBSCRIBERS.toLocaleString("en")} subscribers in ${PROCESSES} other processes (p50 / p99 of ${CHANGES} changes)`,
          figure: `${ms(p50)} / ${ms(p99)}`,
          comparison: `the hub's answer to the PATCH, sent once it has handed the change to all ${SUBSCRIBERS.toLocaleString("en")} sockets: ${ms(percentile(answered, 50))} / ${ms(percentile(answered, 99))}`,
          ratio: "—",
          target: `p99 < ${TARGET_P99_MS} ms — ${verdict(p99 < TARGET_P99_MS)}`,
        },
        {
          name: `hub memory (RSS) per idle subscribed connection, ${SUBSCRIBERS.toLocaleString("en")} connections`,
          figure: kb(rss),
          comparison: `heap + external ${kb(heap)}`,
          ratio: "—",
          target: `≤ ${TARGET_KB} KB — ${verdict(rss <= TARGET_KB * 1024)}`,
        },
      ];
    } finally {
      for (const listener of listeners) listener.child.kill("SIGKILL");
      await hub.stop();
    }
  },
};

export default benchmark;
