// Which signed Slack requests the hub acts on: from its workspace (slack.teamId), in its channels
// (slack.channels), by the people allowed to act (slack.userIds), and each signature only once.
// Pure decisions, table-tested in test/unit/slack-access.test.ts; the endpoint applies them.

export interface SlackAccess {
  /** Channel ids (C0123ABCD) or #names, as slack.channels lists them. */
  channels: string[];
  /** The workspace's team id; when set, a request from any other team is refused. */
  teamId?: string | undefined;
  /** When not empty, only these Slack user ids may act (start work, press buttons, follow up). */
  userIds: string[];
}

/** Who sent a request and where from, as Slack's payload says (every field may be missing). */
export interface SlackRequester {
  team?: string | undefined;
  channelId?: string | undefined;
  channelName?: string | undefined;
  user?: string | undefined;
}

/**
 * - `read`: `/switchboard status` and `task`: in a configured channel, or to a listed person anywhere.
 * - `start`: `/switchboard new`: where reading is allowed, and by a listed person when the list is set.
 * - `decide` (a button) and `follow-up` (a thread reply): in a configured channel, by a listed person when set.
 */
export type SlackAction = "read" | "start" | "decide" | "follow-up";

export type SlackAccessDecision = { ok: true } | { ok: false; reason: string };

export function slackAccess(access: SlackAccess, who: SlackRequester, action: SlackAction): SlackAccessDecision {
  if (access.teamId !== undefined && who.team !== access.teamId) {
    return { ok: false, reason: `the request comes from team ${who.team ?? "(none)"}, not slack.teamId` };
  }
  const inChannel =
    (who.channelId !== undefined && access.channels.includes(who.channelId)) ||
    (who.channelName !== undefined && access.channels.includes(`#${who.channelName}`));
  const listed = who.user !== undefined && access.userIds.includes(who.user);
  const userAllowed = access.userIds.length === 0 || listed;
  const where = `channel ${who.channelId ?? "(none)"}`;
  if (action === "read" || action === "start") {
    if (!inChannel && !listed) {
      return {
        ok: false,
        reason: `${where} is not in slack.channels and user ${who.user ?? "(none)"} is not in slack.userIds`,
      };
    }
  } else if (!inChannel) {
    return { ok: false, reason: `${where} is not in slack.channels` };
  }
  if (action !== "read" && !userAllowed) {
    return { ok: false, reason: `user ${who.user ?? "(none)"} is not in slack.userIds` };
  }
  return { ok: true };
}

/**
 * Signatures of requests already taken, so the same signed request is acted on once. A signature
 * older than the accepted age is refused by its timestamp anyway, so entries are kept only that
 * long; at most `limit` are kept (the oldest go first), whatever arrives.
 */
export interface SeenSignatures {
  /** True when `signature` was seen within the window (a replay); otherwise records it and returns false. */
  seenBefore(signature: string, timestampSeconds: number, nowMs: number): boolean;
  readonly size: number;
}

export function createSeenSignatures(maxAgeSeconds: number, limit = 10_000): SeenSignatures {
  /** signature → its request's timestamp (seconds); Map order is arrival order. */
  const seen = new Map<string, number>();
  return {
    seenBefore(signature, timestampSeconds, nowMs) {
      const oldest = nowMs / 1000 - maxAgeSeconds;
      // A request's timestamp may be up to maxAge in the future, so one kept entry may outlive an
      // earlier one: drop from the front while the front is out of the window, and check the rest by key.
      for (const [key, at] of seen) {
        if (at >= oldest) break;
        seen.delete(key);
      }
      const at = seen.get(signature);
      if (at !== undefined && at >= oldest) return true;
      if (seen.size >= limit) seen.delete(seen.keys().next().value as string);
      seen.set(signature, timestampSeconds);
      return false;
    },
    get size() {
      return seen.size;
    },
  };
}
