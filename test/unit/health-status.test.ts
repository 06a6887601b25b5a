// The pure health rules: status from an entry and the clock, the next time-driven transition,
// and the retry backoff for a dead backend — at their boundaries.
import { describe, expect, it } from "vitest";
import { emptyEntry } from "../../server/backends/health-entry.ts";
import { healthStatus, nextTransitionAt, retryDelay } from "../../server/backends/health-status.ts";
import type { BackendHealth, WarmSession } from "../../shared/schemas.ts";

const MIN = 60_000;
const windows = { warmWindowMs: 5 * MIN, intervalMs: 15 * MIN, graceMs: 1 * MIN };
const T0 = Date.parse("2026-01-01T09:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

const pinged = (ok: boolean, overrides: Partial<BackendHealth> = {}): BackendHealth => ({
  ...emptyEntry("claude"),
  lastPing: at(0),
  lastSuccess: ok ? at(0) : null,
  consecutiveFailures: ok ? 0 : 1,
  ...overrides,
});
const session = (state: WarmSession["state"]): WarmSession => ({
  id: "claude-1",
  state,
  startedAt: at(0),
  readyAt: state === "starting" ? null : at(0),
  expiresAt: at(2 * MIN),
  pid: 123,
});

describe("healthStatus", () => {
  it.each([
    ["never pinged", emptyEntry("claude"), 0, "cold"],
    ["just pinged successfully", pinged(true), 0, "warm"],
    ["success 1 ms inside the warm window", pinged(true), 5 * MIN - 1, "warm"],
    ["success exactly at the warm window's end", pinged(true), 5 * MIN, "healthy"],
    ["success 1 ms before interval + grace", pinged(true), 16 * MIN - 1, "healthy"],
    ["success exactly interval + grace ago", pinged(true), 16 * MIN, "cold"],
    ["last ping failed", pinged(false), 0, "dead"],
    ["last ping failed after an earlier success", pinged(false, { lastSuccess: at(-MIN) }), 0, "dead"],
    [
      "a ready pre-warmed session, long after the last ping",
      pinged(true, { prewarmed: [session("ready")] }),
      10 * MIN,
      "warm",
    ],
    [
      "a session still starting does not make it warm",
      pinged(true, { prewarmed: [session("starting")] }),
      10 * MIN,
      "healthy",
    ],
    ["a busy session does not make it warm", pinged(true, { prewarmed: [session("busy")] }), 10 * MIN, "healthy"],
    ["a loaded Ollama model after the warm window", pinged(true, { loadedModels: ["llama3.2"] }), 10 * MIN, "warm"],
    ["a loaded model known only from a stale ping", pinged(true, { loadedModels: ["llama3.2"] }), 16 * MIN, "cold"],
    ["a ready session does not hide a failed ping", pinged(false, { prewarmed: [session("ready")] }), 0, "dead"],
    ["limited until its reset, whatever the last ping said", pinged(true, { limitedUntil: at(2 * MIN) }), 0, "limited"],
    [
      "limited wins over a failed ping and a ready session",
      pinged(false, { limitedUntil: at(2 * MIN), prewarmed: [session("ready")] }),
      0,
      "limited",
    ],
    ["limited up to 1 ms before limitedUntil", pinged(true, { limitedUntil: at(2 * MIN) }), 2 * MIN - 1, "limited"],
    [
      "cold at limitedUntil: a ping from before says nothing",
      pinged(true, { limitedUntil: at(2 * MIN) }),
      2 * MIN,
      "cold",
    ],
    [
      "a successful ping after the limit ended counts again",
      pinged(true, { limitedUntil: at(-2 * MIN), lastSuccess: at(-MIN) }),
      0,
      "warm",
    ],
    ["dead at limitedUntil when the last ping failed", pinged(false, { limitedUntil: at(2 * MIN) }), 2 * MIN, "dead"],
  ] as const)("%s → %s", (_name, entry, elapsed, expected) => {
    expect(healthStatus(entry, T0 + elapsed, windows)).toBe(expected);
  });
});

describe("healthStatus with graceMs 0: healthy lasts exactly intervalMs", () => {
  const noGrace = { ...windows, graceMs: 0 };
  it.each([
    ["1 ms before the interval ends", 15 * MIN - 1, "healthy"],
    ["exactly at the interval", 15 * MIN, "cold"],
  ] as const)("%s → %s", (_name, elapsed, expected) => {
    expect(healthStatus(pinged(true), T0 + elapsed, noGrace)).toBe(expected);
  });

  it("turns cold exactly one interval after the successful ping", () => {
    expect(nextTransitionAt(pinged(true), T0 + 6 * MIN, noGrace)).toBe(T0 + 15 * MIN);
  });
});

describe("nextTransitionAt", () => {
  it.each([
    ["warm turns healthy when the warm window ends", pinged(true), 0, 5 * MIN],
    ["healthy turns cold at interval + grace", pinged(true), 6 * MIN, 16 * MIN],
    ["cold stays cold", pinged(true), 16 * MIN, null],
    ["dead waits for a ping, not for time", pinged(false), 0, null],
    ["never pinged: nothing to wait for", emptyEntry("claude"), 0, null],
    ["warm from a ready session: no time-driven change", pinged(true, { prewarmed: [session("ready")] }), 0, null],
    ["warm from a loaded model: cold once the ping is stale", pinged(true, { loadedModels: ["m"] }), 0, 16 * MIN],
    ["limited turns cold at limitedUntil", pinged(true, { limitedUntil: at(30 * MIN) }), 0, 30 * MIN],
    ["limited and dead: the limit's end is still a change", pinged(false, { limitedUntil: at(30 * MIN) }), 0, 30 * MIN],
    ["cold after a limit: no further change", pinged(true, { limitedUntil: at(2 * MIN) }), 3 * MIN, null],
  ] as const)("%s", (_name, entry, elapsed, expected) => {
    expect(nextTransitionAt(entry, T0 + elapsed, windows)).toBe(expected === null ? null : T0 + expected);
  });
});

describe("retryDelay", () => {
  it.each([
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [5, 480_000],
    [6, 900_000],
    [40, 900_000],
  ])("after %i consecutive failures → %i ms (30 s doubling, capped at the interval)", (failures, expected) => {
    expect(retryDelay(failures, 30_000, 15 * MIN)).toBe(expected);
  });
});
