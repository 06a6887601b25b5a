// Crash durability: concurrent writers against the hub as a child process, SIGKILL at random
// moments, many rounds. Whatever the hub acknowledged must be there after every restart, and
// the files on disk must always be complete, valid documents.
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { contextSchema, healthSchema } from "../../shared/schemas.ts";
import { makeDataDir } from "../helpers/hub.ts";
import { type HubProcess, spawnHub } from "./hub-process.ts";

const ROUNDS = Number(process.env.SWITCHBOARD_CRASH_ROUNDS ?? 6);
const WRITERS = 4;
const STEPS = 6;

let hub: HubProcess | null = null;
let dataDir: string | null = null;

afterEach(async () => {
  await hub?.kill();
  hub = null;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = null;
});

/** Small seeded generator, so a failing round can be replayed with SWITCHBOARD_CRASH_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** What the hub has acknowledged: tasks it created and the highest step confirmed per task. */
type Acknowledged = Map<string, number>;

async function post(url: string, method: string, body: unknown): Promise<number> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/** One writer: adds its tasks one after another and walks each through its steps, until the hub dies. */
async function writer(
  base: string,
  name: string,
  round: number,
  acknowledged: Acknowledged,
  crash: { killed: boolean },
): Promise<void> {
  try {
    for (let n = 0; ; n++) {
      const taskId = `r${round}-${name}-${n}`;
      const added = await post(`${base}/api/context/tasks`, "POST", {
        taskId,
        description: `round ${round}, writer ${name}, task ${n}`,
        startedFrom: "cli",
        totalSteps: STEPS,
      });
      if (added !== 201) throw new Error(`add answered ${added}`);
      acknowledged.set(taskId, 0);
      for (let step = 1; step <= STEPS; step++) {
        const status = await post(`${base}/api/context/tasks/${taskId}`, "PATCH", {
          currentStep: step,
          lastUpdate: `step ${step} started`,
        });
        if (status !== 200) throw new Error(`update answered ${status}`);
        acknowledged.set(taskId, step);
      }
    }
  } catch (error) {
    // The hub was killed mid-request: that request is simply unacknowledged.
    if (!crash.killed) throw error;
  }
}

/**
 * Every `*.json` in the data directory parses and matches its document schema, and the context
 * file is there once any change was acknowledged (a hub killed before its first acknowledgement
 * may not have written it yet).
 */
async function expectValidFiles(dir: string, seed: number, anyAcknowledged: boolean): Promise<void> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".json"));
  if (anyAcknowledged) expect(names, `seed ${seed}`).toContain("active-context.json");
  for (const name of names) {
    const text = await readFile(join(dir, name), "utf8");
    const schema = name === "backend-health.json" ? healthSchema : contextSchema;
    expect(schema.safeParse(JSON.parse(text)).success, `${name} valid (seed ${seed})`).toBe(true);
  }
}

describe("crash durability", () => {
  it(`every acknowledged update survives ${ROUNDS} rounds of SIGKILL at random moments under ${WRITERS} concurrent writers`, async () => {
    const seed = Number(process.env.SWITCHBOARD_CRASH_SEED ?? Date.now() % 1_000_000);
    const next = random(seed);
    dataDir = await makeDataDir();
    const acknowledged: Acknowledged = new Map();

    for (let round = 0; round < ROUNDS; round++) {
      hub = await spawnHub(dataDir);
      const base = hub.url;
      const crash = { killed: false };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(base, `w${w}`, round, acknowledged, crash));
      await new Promise((resolve) => setTimeout(resolve, 50 + next() * 400));
      crash.killed = true;
      await hub.kill();
      await Promise.all(writers);
      await expectValidFiles(dataDir, seed, acknowledged.size > 0);
    }

    // A last start reads what the crashes left behind.
    hub = await spawnHub(dataDir);
    const response = await fetch(`${hub.url}/api/context`);
    const context = contextSchema.parse(await response.json());
    const onDisk = new Map(context.activeTasks.map((task) => [task.taskId, task.currentStep]));
    expect(acknowledged.size, "the writers got acknowledgements at all").toBeGreaterThan(ROUNDS);
    const lost = [...acknowledged].filter(([taskId, step]) => (onDisk.get(taskId) ?? -1) < step);
    expect(lost, `acknowledged but lost (seed ${seed})`).toEqual([]);
    // Stopped first: the live hub's own in-flight write (its start-up health pings) also uses a
    // temporary file, which would race a look at the directory while it runs.
    expect(await hub.stop()).toBe(0);
    const leftovers = (await readdir(dataDir)).filter((name) => name.endsWith(".tmp"));
    expect(leftovers, "unfinished temporary files left by the crashes are swept at start").toEqual([]);
  });
});
