// The soak's load, in its own process so the hub's figures are the hub's alone: writers walking
// tasks through their steps, SDK subscribers that come and go, and raw sockets dropped without
// a goodbye. Prints a line of counts every few seconds until killed.
import WebSocket from "ws";
import type { HubClient } from "../../client/hub-client.ts";
import { createNodeHubClient } from "../../client/node-hub-client.ts";

const url = process.argv[2] as string;
const SUBSCRIBERS = 60;
const WRITERS = 4;
const STEPS = 5;

let operations = 0;
let failures = 0;
let reconnects = 0;
let received = 0;

const connectClient = async (): Promise<HubClient> => {
  const client = createNodeHubClient({ url, reconnect: { initialDelayMs: 50, maxDelayMs: 1000 } });
  client.on("change", () => {
    received++;
  });
  await client.connect();
  return client;
};

const subscribers: HubClient[] = [];
for (let i = 0; i < SUBSCRIBERS; i++) subscribers.push(await connectClient());

async function writer(name: string): Promise<void> {
  const client = createNodeHubClient({ url });
  for (let n = 0; ; n++) {
    try {
      const task = await client.addTask({ description: `soak ${name} #${n}`, startedFrom: "cli", totalSteps: STEPS });
      for (let step = 1; step <= STEPS; step++) {
        await client.updateTask(task.taskId, { currentStep: step, lastUpdate: `step ${step} of ${STEPS}` });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await client.completeTask(task.taskId, { result: `done ${n}` });
      operations += STEPS + 2;
    } catch {
      failures++;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Every second: two subscribers leave politely and come back, one raw socket just vanishes. */
async function churn(): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (let i = 0; i < 2; i++) {
      const index = Math.floor(Math.random() * subscribers.length);
      subscribers[index]?.close();
      subscribers[index] = await connectClient();
      reconnects++;
    }
    const raw = new WebSocket(`${url.replace(/^http/, "ws")}/ws`);
    raw.on("error", () => undefined);
    raw.on("open", () => raw.send(JSON.stringify({ type: "subscribe", topics: ["context", "health"] })));
    raw.once("message", () => raw.terminate());
  }
}

for (let w = 0; w < WRITERS; w++) void writer(`w${w}`);
void churn();
setInterval(() => {
  process.stdout.write(`${JSON.stringify({ operations, failures, reconnects, received })}\n`);
}, 5000);
