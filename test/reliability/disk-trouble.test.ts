// Disk trouble mid-run: a full, read-only or vanished data directory. The hub keeps serving,
// says so in /healthz and its log, refuses to acknowledge what is not on disk, and catches up
// on its own once the disk works again.
import { execFileSync } from "node:child_process";
import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { HubClient } from "../../client/hub-client.ts";
import { createLogger } from "../../server/log.ts";
import { CONTEXT_FILE, type RunningHub, startHub } from "../../server/start.ts";
import { ManualClock } from "../../shared/clock.ts";
import { contextSchema } from "../../shared/schemas.ts";
import { hubClient, makeDataDir, testConfig } from "../helpers/hub.ts";

interface Fault {
  /** Makes saving in `dataDir` fail. */
  breakDisk(): Promise<void>;
  /** Makes it work again. */
  repairDisk(): Promise<void>;
  /** Reads the context file as it is on disk while the fault lasts. */
  readWhileBroken(): Promise<string>;
}

let hub: RunningHub | null = null;
let client: HubClient | null = null;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  client?.close();
  client = null;
  await hub?.close();
  hub = null;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Mounting a small tmpfs is the honest way to fill a disk or make it read-only, even as root. */
const canMount = (() => {
  if (process.platform !== "linux") return false;
  const probe = join(process.env.TMPDIR ?? "/tmp", `switchboard-mount-probe-${process.pid}`);
  try {
    execFileSync("mkdir", ["-p", probe]);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync("rm", ["-rf", probe]);
  }
})();

async function mountTmpfs(sizeKb: number): Promise<string> {
  const dir = await makeDataDir();
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir]);
  cleanups.push(async () => {
    execFileSync("umount", ["-l", dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

async function startLoggedHub(dataDir: string): Promise<{ hub: RunningHub; log: string[] }> {
  const log: string[] = [];
  const config = testConfig({ logLevel: "info", persistence: { retryDelayMs: 50 } }, dataDir);
  // A still clock makes a retried update a true no-op (same `updatedAt`), the case that must not
  // be acknowledged just because there is nothing new to write.
  const running = await startHub({
    config,
    secrets: { token: null },
    logger: createLogger("info", (l) => log.push(l)),
    clock: new ManualClock(),
  });
  return { hub: running, log };
}

/** The fields these tests read from the hub's replies (error bodies and /healthz). */
interface ReplyBody {
  error: { code: string; message: string };
  status: string;
  persistence: { context: { ok: boolean; error: string | null } };
}

async function call(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as ReplyBody };
}

/** The same story for every kind of fault; only how the disk breaks differs. */
async function survivesFault(dataDir: string, fault: Fault): Promise<void> {
  const started = await startLoggedHub(dataDir);
  hub = started.hub;
  const { log } = started;
  const base = hub.url;
  client = hubClient(hub);
  await client.connect();

  const before = { taskId: "before", description: "saved before the fault", startedFrom: "cli" };
  expect((await call(base, "POST", "/api/context/tasks", before)).status).toBe(201);

  await fault.breakDisk();
  const during = { taskId: "during", description: "sent while the disk is broken", startedFrom: "voice" };
  const refused = await call(base, "POST", "/api/context/tasks", during);
  expect(refused.status).toBe(503);
  expect(refused.body.error.code).toBe("persistence_failed");
  expect(refused.body.error.message).toContain("could not be saved");

  // Reads, live push and the health report keep working.
  const health = await call(base, "GET", "/healthz");
  expect(health.status).toBe(200);
  expect(health.body.status).toBe("degraded");
  expect(health.body.persistence.context.ok).toBe(false);
  expect(health.body.persistence.context.error).toEqual(expect.any(String));
  expect(
    log.some((line) => line.includes("error") && line.includes(`could not save ${join(dataDir, CONTEXT_FILE)}`)),
  ).toBe(true);
  const live = await call(base, "GET", "/api/context");
  expect(live.status).toBe(200);
  await expect
    .poll(() => client?.context?.activeTasks.some((t) => t.taskId === "during") === true, {
      timeout: 5000,
      message: "live push",
    })
    .toBeTruthy();

  // Retrying the same request changes nothing in memory, yet is still not acknowledged.
  expect((await call(base, "POST", "/api/context/tasks", during)).status).toBe(503);
  const update = { lastUpdate: "step 1 started" };
  expect((await call(base, "PATCH", "/api/context/tasks/before", update)).status).toBe(503);
  expect((await call(base, "PATCH", "/api/context/tasks/before", update)).status).toBe(503);
  const onDisk = contextSchema.parse(JSON.parse(await fault.readWhileBroken()));
  expect(onDisk.activeTasks.map((t) => t.taskId)).toEqual(["before"]);

  // No new change is needed: the hub retries on its own.
  await fault.repairDisk();
  await pollUntilHealthy(base);
  const saved = contextSchema.parse(JSON.parse(await readFile(join(dataDir, CONTEXT_FILE), "utf8")));
  expect(saved.activeTasks.map((t) => t.taskId)).toEqual(["before", "during"]);
  expect(saved.activeTasks[0]?.lastUpdate).toBe("step 1 started");
  expect(log.some((line) => line.includes("again"))).toBe(true);
  expect((await call(base, "POST", "/api/context/tasks", during)).status).toBe(200);
  expect((await call(base, "PATCH", "/api/context/tasks/during", { currentStep: 0, lastUpdate: "back" })).status).toBe(
    200,
  );
}

async function pollUntilHealthy(base: string): Promise<void> {
  await expect.poll(async () => (await call(base, "GET", "/healthz")).body.status).toBe("ok");
}

describe("disk trouble", () => {
  it("a data directory replaced by a file (which root cannot write through either) is reported, refused and recovered from", async () => {
    const dataDir = await makeDataDir();
    const moved = `${dataDir}.moved`;
    cleanups.push(async () => {
      await rm(dataDir, { recursive: true, force: true });
      await rm(moved, { recursive: true, force: true });
    });
    await survivesFault(dataDir, {
      async breakDisk() {
        await rename(dataDir, moved);
        await writeFile(dataDir, "not a directory");
      },
      async repairDisk() {
        await rm(dataDir);
        await rename(moved, dataDir);
      },
      readWhileBroken: () => readFile(join(moved, CONTEXT_FILE), "utf8"),
    });
  });

  describe.skipIf(!canMount)(
    "on a small tmpfs (skipped where mounting is not permitted: it needs CAP_SYS_ADMIN)",
    () => {
      it("a full disk is reported, refused and recovered from once space is freed", async () => {
        const dataDir = await mountTmpfs(256);
        const filler = join(dataDir, "filler.bin");
        await survivesFault(dataDir, {
          async breakDisk() {
            const handle = await open(filler, "w");
            try {
              for (;;) await handle.write(Buffer.alloc(16 * 1024));
            } catch (error) {
              expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
            } finally {
              await handle.close().catch(() => undefined);
            }
          },
          repairDisk: () => rm(filler),
          readWhileBroken: () => readFile(join(dataDir, CONTEXT_FILE), "utf8"),
        });
      });

      it("a disk remounted read-only is reported, refused and recovered from once writable again", async () => {
        const dataDir = await mountTmpfs(1024);
        await survivesFault(dataDir, {
          async breakDisk() {
            execFileSync("mount", ["-o", "remount,ro", dataDir]);
          },
          async repairDisk() {
            execFileSync("mount", ["-o", "remount,rw", dataDir]);
          },
          readWhileBroken: () => readFile(join(dataDir, CONTEXT_FILE), "utf8"),
        });
      });
    },
  );
});
