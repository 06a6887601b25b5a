// A private answer to the person who pressed a Slack button, through the interaction's
// response_url: posted only to Slack's own origin (or one configured for tests), never to
// wherever a payload points, and never awaited (Slack wants a press acknowledged within 3 s).
import type { Logger } from "./log.ts";

/** Where Slack's response_url points: the hub answers a press only there. */
export const SLACK_RESPONSE_ORIGIN = "https://hooks.slack.com";
/** How long a private answer to a press may take. */
const RESPOND_TIMEOUT_MS = 10_000;

export interface SlackResponderOptions {
  /** Origins a response_url may have. */
  origins: string[];
  logger: Logger;
}

/** `respond(responseUrl, text)`: an ephemeral message to the person, leaving the original message as it is. */
export function createSlackResponder(
  options: SlackResponderOptions,
): (responseUrl: string | undefined, text: string) => void {
  const origins = new Set(options.origins);
  const { logger } = options;
  return (responseUrl, text) => {
    let url: URL;
    try {
      url = new URL(responseUrl ?? "");
    } catch {
      return;
    }
    if (!origins.has(url.origin)) {
      logger.warn(`slack: did not answer at ${url.origin}, which is not Slack's (the person was not told)`);
      return;
    }
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_type: "ephemeral", replace_original: false, text }),
      signal: AbortSignal.timeout(RESPOND_TIMEOUT_MS),
    })
      .then((response) => response.body?.cancel())
      .catch((error: Error) => logger.warn(`slack: could not answer the person who pressed: ${error.message}`));
  };
}
