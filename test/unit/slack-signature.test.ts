import { describe, expect, it } from "vitest";
import { SLACK_MAX_AGE_SECONDS, slackSignature, verifySlackSignature } from "../../server/slack-requests.ts";

// Slack's own worked example ("Verifying requests from Slack", api.slack.com/authentication/verifying-requests-from-slack).
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const TIMESTAMP = "1531420618";
const BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const AT = Number(TIMESTAMP) * 1000;

const check = (overrides: Partial<Parameters<typeof verifySlackSignature>[0]>) =>
  verifySlackSignature({
    secret: SECRET,
    timestamp: TIMESTAMP,
    signature: SIGNATURE,
    rawBody: BODY,
    nowMs: AT,
    ...overrides,
  });

describe("Slack request signatures", () => {
  it("computes Slack's documented signature for its documented request", () => {
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
  });

  it("accepts the documented request at its own time and up to five minutes either side", () => {
    expect(check({})).toEqual({ ok: true });
    expect(check({ nowMs: AT + SLACK_MAX_AGE_SECONDS * 1000 })).toEqual({ ok: true });
    expect(check({ nowMs: AT - SLACK_MAX_AGE_SECONDS * 1000 })).toEqual({ ok: true });
  });

  it.each([
    ["no signature header", { signature: undefined }, /not signed/],
    ["no timestamp header", { timestamp: undefined }, /not signed/],
    ["a timestamp that is not a number", { timestamp: "yesterday" }, /not a Unix time/],
    [
      "a request older than five minutes (a replay)",
      { nowMs: AT + (SLACK_MAX_AGE_SECONDS + 1) * 1000 },
      /five minutes/,
    ],
    ["a timestamp more than five minutes ahead", { nowMs: AT - (SLACK_MAX_AGE_SECONDS + 1) * 1000 }, /five minutes/],
    ["another signing secret", { secret: "0000000000000000000000000000000" }, /does not match/],
    ["one changed byte of the body", { rawBody: BODY.replace("text=", "text=x") }, /does not match/],
    ["a signature under another timestamp", { timestamp: "1531420619" }, /does not match/],
    ["a truncated signature", { signature: SIGNATURE.slice(0, -2) }, /does not match/],
    ["a v1 scheme signature", { signature: SIGNATURE.replace("v0=", "v1=") }, /does not match/],
  ])("refuses %s", (_, overrides, reason) => {
    const result = check(overrides);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.reason).toMatch(reason);
  });
});
