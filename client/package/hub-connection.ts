// How the switchboard/session and switchboard/warmup functions reach the running hub from
// another process: one connection per process (shared by every copy of the package, ESM and
// CommonJS alike), found through SWITCHBOARD_HUB and SWITCHBOARD_TOKEN. Reads come from its live
// mirror once connected; a write resolves when the hub acknowledged it (durable) and the mirror
// holds its result, so a read right after a write sees it.
import WebSocket from "ws";
import { DEFAULT_HUB_URL, hubTokenFrom } from "../../shared/defaults.ts";
import type { Context, Health, StreamPosition, Topic } from "../../shared/schemas.ts";
import { HubApi, HubError } from "../hub-api.ts";
import { HubClient, type SocketLike } from "../hub-client.ts";

/** The response header naming the documents' positions after a change (server/hub.ts). */
const POSITIONS_HEADER = "switchboard-positions";
/** How long the first connection may take before the call fails. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The hub could not be reached at all: nothing listens there, or the address is wrong. */
export class HubUnreachableError extends Error {
  readonly code = "hub_unreachable";
  readonly url: string;
  constructor(url: string, cause: unknown) {
    const why = describeCause(cause);
    super(
      `switchboard: cannot reach the hub at ${url}${why ? ` (${why})` : ""}. Start one with \`npm start\` in the ` +
        "switchboard folder, or set SWITCHBOARD_HUB to the address of a running hub.",
    );
    this.name = "HubUnreachableError";
    this.url = url;
  }
}

function describeCause(cause: unknown): string {
  const error = cause as { code?: string; message?: string; cause?: { code?: string; message?: string } } | null;
  return error?.cause?.code ?? error?.code ?? error?.cause?.message ?? error?.message ?? "";
}

export interface HubAddress {
  url: string;
  token: string | null;
}

/** Where the hub is: SWITCHBOARD_HUB (default http://127.0.0.1:7433) and SWITCHBOARD_TOKEN. */
export function hubAddress(env: NodeJS.ProcessEnv = process.env): HubAddress {
  const url = env.SWITCHBOARD_HUB?.trim() || DEFAULT_HUB_URL;
  return { url: url.replace(/\/+$/, ""), token: hubTokenFrom(env) };
}

type Positions = Partial<Record<Topic, StreamPosition>>;

/** Reads `context=<epoch>:<version>, health=<epoch>:<version>`. */
export function parsePositions(header: string | null): Positions {
  const positions: Positions = {};
  for (const part of (header ?? "").split(",")) {
    const match = /^\s*(context|health)=([^:]+):(\d+)\s*$/.exec(part);
    if (match) positions[match[1] as Topic] = { epoch: match[2] as string, version: Number(match[3]) };
  }
  return positions;
}

/** Whether the mirror's position is at or past the wanted one (the same epoch, a version as high). */
export function holds(mirror: StreamPosition | null, wanted: StreamPosition): boolean {
  return mirror !== null && mirror.epoch === wanted.epoch && mirror.version >= wanted.version;
}

/** A WebSocket that does not keep the process alive by itself once connected: a script ends when its work does. */
function unrefSocket(url: string, headers: Record<string, string>): SocketLike {
  const socket = new WebSocket(url, { headers });
  socket.on("upgrade", (response) => response.socket.unref());
  return socket as unknown as SocketLike;
}

export class HubConnection {
  readonly address: HubAddress;
  private client: HubClient | null = null;
  private connecting: Promise<HubClient> | null = null;
  private pending = 0;
  private keepAlive: ReturnType<typeof setInterval> | null = null;

  constructor(address: HubAddress) {
    this.address = address;
  }

  /** The live mirror, connecting first when there is none (or the last one was lost). */
  private mirror(): Promise<HubClient> {
    if (this.client?.state === "live" && this.client.context && this.client.health) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<HubClient> {
    // A REST call first: an unreachable hub or a refused token fails at once, with the reason.
    await this.rest("GET", "/api/context");
    const client = new HubClient({ url: this.address.url, token: this.address.token, socket: unrefSocket });
    let failure: string | null = null;
    const offError = client.on("hub-error", ({ message }) => {
      failure = message;
    });
    // A lost connection is dropped rather than retried in the background: the next call connects
    // again, or says the hub is gone.
    client.on("connection", ({ state }) => {
      if (state !== "reconnecting") return;
      if (this.client === client) this.client = null;
      queueMicrotask(() => client.close());
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new HubUnreachableError(this.address.url, new Error(failure ?? "no answer on the WebSocket"))),
            CONNECT_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      client.close();
      throw error;
    } finally {
      clearTimeout(timer);
      offError();
    }
    this.client = client;
    return client;
  }

  /** One REST call; `positions` are those the hub named in its answer. */
  private async rest<T>(method: string, path: string, body?: unknown): Promise<{ value: T; positions: Positions }> {
    let header: string | null = null;
    const api = new HubApi({
      url: this.address.url,
      token: this.address.token,
      fetch: async (input, init) => {
        let response: Response;
        try {
          response = await fetch(input, init);
        } catch (error) {
          throw new HubUnreachableError(this.address.url, error);
        }
        header = response.headers.get(POSITIONS_HEADER);
        return response;
      },
    });
    const value = await api.request<T>(method, path, body);
    return { value, positions: parsePositions(header) };
  }

  /** Runs `work` holding the process open until it settles (the socket alone does not). */
  private async held<T>(work: () => Promise<T>): Promise<T> {
    if (this.pending++ === 0) this.keepAlive = setInterval(() => {}, 60_000);
    try {
      return await work();
    } finally {
      if (--this.pending === 0 && this.keepAlive) {
        clearInterval(this.keepAlive);
        this.keepAlive = null;
      }
    }
  }

  /** Reads from the live mirror. */
  read<T>(pick: (documents: { context: Context; health: Health }) => T): Promise<T> {
    return this.held(async () => {
      const client = await this.mirror();
      return pick({ context: client.context as Context, health: client.health as Health });
    });
  }

  /** A REST call that changes nothing (used where the hub's own answer is the one to give, e.g. a refusal). */
  get<T>(path: string): Promise<T> {
    return this.held(async () => (await this.rest<T>("GET", path)).value);
  }

  /** A change: resolves with the hub's answer once it is durable and the mirror holds it. */
  write<T>(method: string, path: string, body: unknown): Promise<T> {
    return this.held(async () => {
      const client = await this.mirror();
      const { value, positions } = await this.rest<T>(method, path, body);
      await waitForPositions(client, positions);
      return value;
    });
  }

  close(): void {
    this.client?.close();
    this.client = null;
  }
}

/** Resolves when the mirror holds every position (or has lost its connection: reads then reconnect). */
function waitForPositions(client: HubClient, positions: Positions): Promise<void> {
  const wanted = Object.entries(positions) as [Topic, StreamPosition][];
  const done = () => client.state !== "live" || wanted.every(([topic, at]) => holds(client.position(topic), at));
  if (done()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (!done()) return;
      offChange();
      offConnection();
      resolve();
    };
    const offChange = client.on("change", check);
    const offConnection = client.on("connection", check);
  });
}

const CONNECTIONS = Symbol.for("switchboard.package.connections");

/** The process's connection to the hub at `address` (one per address, whichever copy of the package asks). */
export function hubConnection(address: HubAddress = hubAddress()): HubConnection {
  const global = globalThis as Record<symbol, unknown>;
  global[CONNECTIONS] ??= new Map<string, HubConnection>();
  const registry = global[CONNECTIONS] as Map<string, HubConnection>;
  const key = `${address.url} ${address.token ?? ""}`;
  let connection = registry.get(key);
  if (!connection) {
    connection = new HubConnection(address);
    registry.set(key, connection);
  }
  return connection;
}

export { HubError };
