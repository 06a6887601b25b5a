// A request as Slack sends it to the hub's endpoints: the body, its content type, and the v0
// timestamp and signature headers, signed the way server/slack-requests.ts checks them.
import { slackSignature } from "../../server/slack-requests.ts";

export interface SlackRequestOptions {
  secret: string;
  contentType?: string;
  /** Seconds since the epoch; now unless given (a stale or future one tests the replay window). */
  timestamp?: number;
  /** A signature to send instead of the right one; null sends none. */
  signature?: string | null;
}

/** fetch() options for `body` as Slack would POST it, signed with `options.secret`. */
export function signedSlackRequest(body: string, options: SlackRequestOptions) {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature =
    options.signature === undefined ? slackSignature(options.secret, timestamp, body) : options.signature;
  return {
    method: "POST",
    headers: {
      "content-type": options.contentType ?? "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": timestamp,
      ...(signature !== null ? { "x-slack-signature": signature } : {}),
    },
    body,
  };
}
