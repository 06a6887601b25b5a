// The SDK's reconnection delay: exponential backoff with equal jitter, capped.
import { describe, expect, it } from "vitest";
import { reconnectDelay } from "../../client/hub-client.ts";

describe("reconnectDelay", () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1600 };

  it.each([
    // attempt, random, expected delay: half the ceiling fixed, half scaled by the random draw
    [0, 0, 50],
    [0, 1, 100],
    [1, 0.5, 150],
    [2, 0, 200],
    [3, 1, 800],
    [4, 0.25, 1000],
    [5, 1, 1600], // the ceiling stops doubling at maxDelayMs
    [50, 0, 800],
  ])("attempt %i with random %f waits %i ms", (attempt, random, expected) => {
    expect(reconnectDelay(attempt, options, random)).toBe(expected);
  });

  it("spreads many clients over the upper half of the ceiling instead of one instant", () => {
    const delays = Array.from({ length: 1000 }, (_, i) => reconnectDelay(3, options, i / 999));
    expect(Math.min(...delays)).toBe(400);
    expect(Math.max(...delays)).toBe(800);
    expect(new Set(delays.map((d) => Math.floor(d / 40))).size).toBe(11);
  });

  it("defaults to 250 ms doubling up to 10 s", () => {
    expect(reconnectDelay(0, {}, 1)).toBe(250);
    expect(reconnectDelay(10, {}, 1)).toBe(10_000);
  });
});
