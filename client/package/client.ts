// switchboard/client: the hub client SDK for Node programs — REST calls, a live mirror of both
// documents with typed events, and the progress phrasing every channel shares.

export { DEFAULT_HUB_URL } from "../../shared/defaults.ts";
export * from "../hub-client.ts";
export { createNodeHubClient, type NodeHubClientOptions } from "../node-hub-client.ts";
export * from "../phrasing.ts";
export { HubUnreachableError, hubAddress } from "./hub-connection.ts";
