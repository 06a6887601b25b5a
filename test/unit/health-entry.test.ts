// The pure step a ping makes of a health entry: success, failure with backoff, what is kept and
// what is forgotten — one row per rule.
import { describe, expect, it } from "vitest";
import type { PingResult } from "../../server/backends/backend.ts";
import { emptyEntry, entryAfterPing, LATENCY_HISTORY } from "../../server/backends/health-entry.ts";
import type { BackendHealth } from "../../shared/schemas.ts";

const MIN = 60_000;
const schedule = { intervalMs: 15 * MIN, retryInitialMs: 30_000 };
const T0 = Date.parse("2026-01-01T09:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();
const ok: PingResult = { ok: true, version: "2.2.0", authMethod: "claude.ai" };
const down = (reason: string, version?: string | null): PingResult => ({
  ok: false,
  reason,
  ...(version === undefined ? {} : { version }),
});
const entry = (overrides: Partial<BackendHealth> = {}): BackendHealth => ({ ...emptyEntry("claude"), ...overrides });

describe("entryAfterPing", () => {
  it.each<[string, BackendHealth, PingResult, Partial<BackendHealth>]>([
    [
      "a first success records version, auth, latency and times, and the next ping an interval away",
      entry(),
      ok,
      {
        reason: null,
        version: "2.2.0",
        authMethod: "claude.ai",
        latencyMs: 42,
        lastPing: at(0),
        lastSuccess: at(0),
        consecutiveFailures: 0,
        nextPingAt: at(15 * MIN),
        latencyHistory: [{ at: at(0), ms: 42 }],
      },
    ],
    [
      "a success after failures clears the reason and the count",
      entry({ reason: "timed out", consecutiveFailures: 3, lastSuccess: at(-MIN) }),
      ok,
      { reason: null, consecutiveFailures: 0, lastSuccess: at(0), nextPingAt: at(15 * MIN) },
    ],
    [
      "a success records the models loaded now (and none when the ping names none)",
      entry({ loadedModels: ["old"] }),
      { ok: true, version: null, authMethod: null, loadedModels: ["llama3.2"] },
      { loadedModels: ["llama3.2"] },
    ],
    [
      "a first failure counts, gives its reason and retries after retryInitialMs",
      entry({ lastSuccess: at(-MIN), version: "2.1.0" }),
      down("not logged in"),
      {
        reason: "not logged in",
        version: "2.1.0",
        lastPing: at(0),
        lastSuccess: at(-MIN),
        consecutiveFailures: 1,
        nextPingAt: at(30_000),
        latencyMs: 42,
      },
    ],
    [
      "a third failure backs off to four times retryInitialMs",
      entry({ consecutiveFailures: 2 }),
      down("timed out"),
      { consecutiveFailures: 3, nextPingAt: at(120_000) },
    ],
    [
      "backoff never exceeds the interval",
      entry({ consecutiveFailures: 30 }),
      down("unreachable"),
      { consecutiveFailures: 31, nextPingAt: at(15 * MIN) },
    ],
    [
      "a failure that knows the version (logged out) records it",
      entry({ version: "2.1.0" }),
      down("not logged in", "2.2.0"),
      { version: "2.2.0" },
    ],
    [
      "a failure forgets loaded models and keeps the latency history",
      entry({ loadedModels: ["llama3.2"], latencyHistory: [{ at: at(-MIN), ms: 10 }] }),
      down("unreachable"),
      { loadedModels: [], latencyHistory: [{ at: at(-MIN), ms: 10 }] },
    ],
  ])("%s", (_name, before, result, expected) => {
    expect(entryAfterPing(before, result, { now: T0, latencyMs: 42 }, schedule)).toMatchObject(expected);
  });

  it(`keeps only the last ${LATENCY_HISTORY} latencies, newest last`, () => {
    const history = Array.from({ length: LATENCY_HISTORY }, (_, i) => ({
      at: at(-(LATENCY_HISTORY - i) * MIN),
      ms: i,
    }));
    const after = entryAfterPing(entry({ latencyHistory: history }), ok, { now: T0, latencyMs: 99 }, schedule);
    expect(after.latencyHistory).toHaveLength(LATENCY_HISTORY);
    expect(after.latencyHistory[0]).toEqual(history[1]);
    expect(after.latencyHistory.at(-1)).toEqual({ at: at(0), ms: 99 });
  });

  it("leaves the status and the pre-warmed sessions to their owners", () => {
    const sessions = [
      { id: "claude-1", state: "ready" as const, startedAt: at(0), readyAt: at(0), expiresAt: null, pid: 1 },
    ];
    const before = entry({ status: "warm", prewarmed: sessions });
    const after = entryAfterPing(before, down("timed out"), { now: T0, latencyMs: 1 }, schedule);
    expect(after.status).toBe("warm");
    expect(after.prewarmed).toBe(sessions);
  });
});
