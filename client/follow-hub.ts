// What both chat adapters (Telegram, Slack) take from the hub's live mirror: every context change
// keeps their one message per task in step, and a backend becoming limited (or back again) is told
// once, in every chat or channel.
import type { ChatMessages } from "./chat-messages.ts";
import type { HubClient } from "./hub-client.ts";
import { limitAnnouncement } from "./limit-phrasing.ts";
import type { Moment } from "./phrasing.ts";

/** Starts following; the returned function stops it. */
export function followHub<Ref>(
  hub: HubClient,
  messages: ChatMessages<Ref>,
  options: { now: () => Moment; announce: (text: string) => void },
): () => void {
  const unsubscribe = hub.on("change", ({ topic }) => {
    if (topic === "context" && hub.context) messages.sync(hub.context);
  });
  const unsubscribeLimits = hub.on("health-changed", (event) => {
    const text = limitAnnouncement(event, options.now());
    if (text) options.announce(text);
  });
  return () => {
    unsubscribe();
    unsubscribeLimits();
  };
}
