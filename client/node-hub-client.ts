// The hub client for Node programs (adapters, CLI, tests): HubClient over the `ws` package.
import WebSocket from "ws";
import { HubClient, type HubClientOptions, type SocketLike } from "./hub-client.ts";

export type NodeHubClientOptions = Omit<HubClientOptions, "socket"> & Partial<Pick<HubClientOptions, "socket">>;

export function createNodeHubClient(options: NodeHubClientOptions): HubClient {
  return new HubClient({
    socket: (url, headers) => new WebSocket(url, { headers }) as unknown as SocketLike,
    ...options,
  });
}
