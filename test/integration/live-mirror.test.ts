import { afterEach, describe, expect, it } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import { hubClient, startTestHub, type TestHub } from "../helpers/hub.ts";

let hub: TestHub;
let clients: HubClient[] = [];

afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  await hub?.stop();
});

describe("live mirror", () => {
  it("a subscriber's mirror equals GET /api/context after REST mutations", async () => {
    hub = await startTestHub();
    const client = hubClient(hub);
    clients.push(client);
    await client.connect();
    const task = await client.addTask({ description: "Analyze trust docs", startedFrom: "voice", totalSteps: 3 });
    await client.updateTask(task.taskId, { currentStep: 2, lastUpdate: "step 2 started" });
    await client.completeTask(task.taskId, { result: "done", outputPath: "artifacts/trust.md" });
    const expected = await client.getContext();
    await expect
      .poll(() => JSON.stringify(client.context) === JSON.stringify(expected), {
        timeout: 5000,
        message: "mirror to match",
      })
      .toBeTruthy();
    expect(client.context).toEqual(expected);
    expect(client.position("context")?.version).toBe(3);
  });
});
