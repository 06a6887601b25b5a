// What Slack sends the hub, as data and pure checks: its v0 request signature (made and checked
// against the clock), the shapes of the slash command, Events API envelope and button press, and
// what a press's button and a thread's message mean. slack-endpoint.ts serves them.
import { createHmac, timingSafeEqual } from "node:crypto";
import * as z from "zod";
import { type ApprovalButton, approvalButtonSchema } from "../shared/schemas.ts";
import type { SlackThreadReply } from "../shared/slack-thread-reply.ts";

/** Slack's guidance: refuse requests whose timestamp is more than five minutes off (replays). */
export const SLACK_MAX_AGE_SECONDS = 300;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Slack's v0 scheme: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret. */
export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}

/** Pure check of one request's signature headers against its raw body and the time now. */
export function verifySlackSignature(input: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  nowMs: number;
  maxAgeSeconds?: number;
}): SignatureCheck {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) {
    return { ok: false, reason: "the request is not signed (X-Slack-Request-Timestamp and X-Slack-Signature)" };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "X-Slack-Request-Timestamp is not a Unix time" };
  const age = Math.abs(input.nowMs / 1000 - Number(timestamp));
  if (age > (input.maxAgeSeconds ?? SLACK_MAX_AGE_SECONDS)) {
    return { ok: false, reason: "the request's timestamp is more than five minutes off (a replay, or a wrong clock)" };
  }
  const expected = Buffer.from(slackSignature(input.secret, timestamp, input.rawBody));
  const presented = Buffer.from(signature);
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) {
    return { ok: false, reason: "the signature does not match (check SLACK_SIGNING_SECRET)" };
  }
  return { ok: true };
}

/** Slack bounds a command's or message's text; anything far longer is not from Slack. */
const SLASH_TEXT_LIMIT = 12_000;

/** Slack's ids and names are short; these bound what a signed request may carry. */
const slackId = z.string().max(100).optional();

export const slashCommandSchema = z.object({
  command: z.string().max(100),
  text: z.string().max(SLASH_TEXT_LIMIT).default(""),
  team_id: slackId,
  channel_id: slackId,
  channel_name: slackId,
  user_id: slackId,
});

/** The Events API envelopes the hub takes: the URL handshake and message events. */
export const eventEnvelopeSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("url_verification"), challenge: z.string().min(1).max(500) }),
  z.object({
    type: z.literal("event_callback"),
    team_id: slackId,
    event_id: z.string().max(100).optional(),
    event: z.looseObject({
      type: z.string().max(100),
      subtype: z.string().max(100).optional(),
      bot_id: z.string().max(100).optional(),
      channel: z.string().max(100).optional(),
      user: z.string().max(100).optional(),
      text: z.string().max(SLASH_TEXT_LIMIT).optional(),
      ts: z.string().max(40).optional(),
      thread_ts: z.string().max(40).optional(),
    }),
  }),
  z.looseObject({ type: z.literal("app_rate_limited") }),
]);

export const blockActionsSchema = z.object({
  type: z.string().max(100),
  team: z.object({ id: slackId }).nullish(),
  user: z.object({ id: slackId }).optional(),
  channel: z.object({ id: slackId, name: slackId }).optional(),
  /** Where a private answer to the person who pressed goes (Slack's hooks URL for this interaction). */
  response_url: z.string().max(2000).optional(),
  actions: z
    .array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional() }))
    .max(25)
    .default([]),
});

/** What a press's button carries (taskId, step, approvalId), or null for a value of another shape. */
export function approvalButton(value: string): ApprovalButton | null {
  try {
    const parsed = approvalButtonSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * A person's reply in a thread, or null for anything else: a top-level message, an edit or
 * deletion (subtypes), or a bot's message — the app's own answers among them.
 */
export function asThreadReply(event: {
  type: string;
  subtype?: string | undefined;
  bot_id?: string | undefined;
  channel?: string | undefined;
  user?: string | undefined;
  text?: string | undefined;
  ts?: string | undefined;
  thread_ts?: string | undefined;
}): SlackThreadReply | null {
  if (event.type !== "message" || event.subtype !== undefined || event.bot_id !== undefined) return null;
  const { channel, user, text, ts, thread_ts: threadTs } = event;
  if (!channel || !user || !text?.trim() || !ts || !threadTs || threadTs === ts) return null;
  return { channel, user, text, ts, threadTs };
}
