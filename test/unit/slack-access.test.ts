import { describe, expect, it } from "vitest";
import { createSeenSignatures, type SlackAccess, type SlackAction, slackAccess } from "../../server/slack-access.ts";

const OPEN: SlackAccess = { channels: ["C0DEV", "#ops"], userIds: [] };
const LIMITED: SlackAccess = { channels: ["C0DEV"], teamId: "T1", userIds: ["U1"] };

const inDev = { team: "T1", channelId: "C0DEV", user: "U1" };
const elsewhere = { team: "T1", channelId: "C0OTHER", user: "U1" };

describe("who the hub acts for in Slack", () => {
  it.each<[string, SlackAccess, Parameters<typeof slackAccess>[1], SlackAction, boolean | RegExp]>([
    ["anyone, in a configured channel, with no user list", OPEN, { ...inDev, user: "U9" }, "decide", true],
    [
      "a configured #name matches the payload's channel name",
      OPEN,
      { channelId: "COPS", channelName: "ops" },
      "decide",
      true,
    ],
    ["a press in a channel not in slack.channels", OPEN, elsewhere, "decide", /C0OTHER is not in slack.channels/],
    ["a thread reply in a channel not in slack.channels", OPEN, elsewhere, "follow-up", /not in slack.channels/],
    [
      "status in a channel not configured, with no user list",
      OPEN,
      elsewhere,
      "read",
      /not in slack.channels and user U1/,
    ],
    ["status in a configured channel by anyone", LIMITED, { ...inDev, user: "U9" }, "read", true],
    ["status elsewhere to a listed person", LIMITED, elsewhere, "read", true],
    ["status elsewhere to an unlisted person", LIMITED, { ...elsewhere, user: "U9" }, "read", /not in slack.userIds/],
    ["a listed person starts work anywhere", LIMITED, elsewhere, "start", true],
    [
      "an unlisted person cannot start work, even in a configured channel",
      LIMITED,
      { ...inDev, user: "U9" },
      "start",
      /U9 is not in slack.userIds/,
    ],
    ["a listed person presses in a configured channel", LIMITED, inDev, "decide", true],
    ["an unlisted person's press", LIMITED, { ...inDev, user: "U9" }, "decide", /U9 is not in slack.userIds/],
    ["a listed person's press outside the channels", LIMITED, elsewhere, "decide", /not in slack.channels/],
    [
      "a request without a user when the list is set",
      LIMITED,
      { team: "T1", channelId: "C0DEV" },
      "decide",
      /\(none\) is not in slack.userIds/,
    ],
    ["another team when slack.teamId is set", LIMITED, { ...inDev, team: "T2" }, "read", /team T2, not slack.teamId/],
    ["no team when slack.teamId is set", LIMITED, { channelId: "C0DEV", user: "U1" }, "decide", /team \(none\)/],
    ["any team when slack.teamId is not set", OPEN, { ...inDev, team: "T2" }, "decide", true],
  ])("%s", (_, access, who, action, expected) => {
    const decision = slackAccess(access, who, action);
    if (expected === true) expect(decision).toEqual({ ok: true });
    else {
      expect(decision.ok).toBe(false);
      expect(decision.ok ? "" : decision.reason).toMatch(expected as RegExp);
    }
  });
});

describe("signatures already seen", () => {
  const T = 1_700_000_000;

  it("a signature seen within five minutes is a replay; another is not", () => {
    const seen = createSeenSignatures(300);
    expect(seen.seenBefore("v0=aa", T, T * 1000)).toBe(false);
    expect(seen.seenBefore("v0=aa", T, (T + 299) * 1000)).toBe(true);
    expect(seen.seenBefore("v0=bb", T, (T + 1) * 1000)).toBe(false);
  });

  it("forgets signatures whose timestamp left the window (those are refused by their age)", () => {
    const seen = createSeenSignatures(300);
    seen.seenBefore("v0=aa", T, T * 1000);
    seen.seenBefore("v0=bb", T + 200, (T + 200) * 1000);
    expect(seen.seenBefore("v0=cc", T + 400, (T + 400) * 1000)).toBe(false);
    expect(seen.size).toBe(2);
  });

  it("keeps at most `limit` signatures, dropping the oldest", () => {
    const seen = createSeenSignatures(300, 3);
    for (const s of ["a", "b", "c", "d"]) seen.seenBefore(s, T, T * 1000);
    expect(seen.size).toBe(3);
    expect(seen.seenBefore("d", T, T * 1000)).toBe(true);
    expect(seen.seenBefore("a", T, T * 1000)).toBe(false);
  });
});
