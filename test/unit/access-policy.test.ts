// The access policy's pure decisions, table-tested: which names and addresses are loopback, when
// a bind is refused, when a request passes the token rule, and a comparison that hides length.
import * as crypto from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { checkBoundAddresses, urlHost } from "../../server/bind-address.ts";
import {
  bareHost,
  isLoopbackAddress,
  isLoopbackHost,
  isTokenValid,
  tokenDecision,
} from "../../shared/access-policy.ts";

vi.mock("node:crypto", async (importOriginal) => {
  const original = await importOriginal<typeof crypto>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

describe("isLoopbackHost (Host header names)", () => {
  it.each([
    ["localhost", true],
    ["LOCALHOST", true],
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["[::1]", true],
    ["::1", true],
    ["switchboard.localhost", false],
    ["localhost.attacker.example", false],
    ["127.0.0.1.nip.io", false],
    ["0.0.0.0", false],
  ])("%s → %s", (name, expected) => {
    expect(isLoopbackHost(name)).toBe(expected);
  });
});

describe("isLoopbackAddress (addresses as resolved or bound)", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.255.0.1", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["localhost", false],
  ])("%s → %s", (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});

describe("checkBoundAddresses", () => {
  it("allows only loopback addresses without a token, and names the addresses it refuses", () => {
    expect(checkBoundAddresses("localhost", ["127.0.0.1", "::1"], null)).toBeNull();
    expect(checkBoundAddresses("dev.localhost", ["127.0.0.1", "192.0.2.7"], null)).toBe(
      "refusing to listen on dev.localhost (127.0.0.1, 192.0.2.7) without a token: set SWITCHBOARD_TOKEN, or use host 127.0.0.1",
    );
    expect(checkBoundAddresses("0.0.0.0", ["0.0.0.0"], null)).toMatch(/^refusing to listen on 0\.0\.0\.0 without/);
    expect(checkBoundAddresses("anything", [], null)).not.toBeNull();
    expect(checkBoundAddresses("0.0.0.0", ["0.0.0.0"], "a-token")).toBeNull();
  });
});

describe("bareHost and urlHost (an IPv6 literal may come in brackets)", () => {
  it.each([
    ["[::1]", "::1", "[::1]"],
    ["::1", "::1", "[::1]"],
    ["127.0.0.1", "127.0.0.1", "127.0.0.1"],
    ["localhost", "localhost", "localhost"],
    ["0.0.0.0", "0.0.0.0", "0.0.0.0"],
    ["::", "::", "[::]"],
  ])("%s listens on %s and is written %s in a URL", (host, bare, inUrl) => {
    expect(bareHost(host)).toBe(bare);
    expect(urlHost(host)).toBe(inUrl);
  });
});

describe("tokenDecision", () => {
  const base = { token: "t0k", access: "token" as const, route: "/api/context", isUpgrade: false };
  it.each([
    ["no token configured", { ...base, token: null, authorization: undefined, queryToken: undefined }, true],
    ["a public route", { ...base, access: "public" as const, authorization: undefined, queryToken: undefined }, true],
    ["the Bearer header", { ...base, authorization: "Bearer t0k", queryToken: undefined }, true],
    ["?token= on REST", { ...base, authorization: undefined, queryToken: "t0k" }, false],
    [
      "?token= on the upgrade",
      { ...base, route: "/ws", isUpgrade: true, authorization: undefined, queryToken: "t0k" },
      true,
    ],
    [
      "?token= on /ws without the upgrade",
      { ...base, route: "/ws", authorization: undefined, queryToken: "t0k" },
      false,
    ],
    ["an upgrade to another route", { ...base, isUpgrade: true, authorization: undefined, queryToken: "t0k" }, false],
    ["no route matched", { ...base, route: undefined, authorization: undefined, queryToken: undefined }, false],
    [
      "a repeated ?token= (an array)",
      { ...base, route: "/ws", isUpgrade: true, authorization: undefined, queryToken: ["t0k"] },
      false,
    ],
    ["a wrong token", { ...base, authorization: "Bearer t0", queryToken: undefined }, false],
  ])("%s → %s", (_, input, expected) => {
    expect(tokenDecision(input)).toBe(expected);
  });
});

describe("isTokenValid", () => {
  it("compares equal-length digests whatever the length presented, so length is never revealed", () => {
    const compare = vi.mocked(crypto.timingSafeEqual);
    compare.mockClear();
    expect(isTokenValid("a-long-and-secret-token", "x")).toBe(false);
    expect(isTokenValid("a-long-and-secret-token", "a-long-and-secret-token-and-more")).toBe(false);
    expect(isTokenValid("a-long-and-secret-token", "a-long-and-secret-token")).toBe(true);
    expect(compare).toHaveBeenCalledTimes(3);
    for (const [a, b] of compare.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
  });
});
