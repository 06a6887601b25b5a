// What the hub's Slack endpoint (server/slack-endpoint.ts) hands the Slack adapter
// (client/slack/adapter.ts) when a person replies in a task's thread: one type for both sides.

/** A person's message in a thread of a channel the app is in (an Events API `message` event). */
export interface SlackThreadReply {
  channel: string;
  user: string;
  text: string;
  ts: string;
  threadTs: string;
}
