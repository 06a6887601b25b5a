// switchboard/client: the hub client SDK for Node programs — REST calls, a live mirror of both
// documents with typed events, and the progress phrasing every channel shares.
export * from "../hub-client.ts";
export { createNodeHubClient, type NodeHubClientOptions } from "../node-hub-client.ts";
export * from "../phrasing.ts";
export { DEFAULT_HUB_URL, HubUnreachableError, hubAddress } from "./hub-connection.ts";
