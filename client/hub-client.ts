// The hub client SDK for every channel, in Node and in the browser: the REST calls (HubApi), plus a
// WebSocket that keeps a live mirror of each document (document-mirror.ts), resumes after gaps and
// disconnects, and emits typed events (document-events.ts derives them from two states).
import type {
  ClientFrame,
  Context,
  Health,
  JsonPatchOperation,
  ServerFrame,
  StreamPosition,
  Topic,
  UsageDocument,
} from "../shared/schemas.ts";
import { type DocumentEvents, healthEvents, taskEvents } from "./document-events.ts";
import { DocumentMirror } from "./document-mirror.ts";
import { HubApi, type HubApiOptions } from "./hub-api.ts";

export { HubError } from "./hub-api.ts";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "closed";

/** The subset of the WebSocket interface used here; the browser's and ws's both fit. */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** Opens a WebSocket. `headers` carries the token; a factory that cannot send headers (a browser) puts it in the URL. */
export type SocketFactory = (url: string, headers: Record<string, string>) => SocketLike;

/** The browser's native WebSocket; it cannot send headers, so the token rides as `?token=`. */
export const browserSocket: SocketFactory = (url, headers) => {
  const target = new URL(url);
  const token = headers.authorization?.replace(/^Bearer /, "");
  if (token) target.searchParams.set("token", token);
  return new globalThis.WebSocket(target.toString()) as unknown as SocketLike;
};

export interface HubClientOptions extends HubApiOptions {
  topics?: Topic[];
  /** Opens a WebSocket; defaults to the browser's. Node callers use createNodeHubClient (ws). */
  socket?: SocketFactory;
  /** Reconnection backoff: the ceiling doubles per failed attempt from initialDelayMs up to maxDelayMs. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Source of jitter (injected in tests). */
  random?: () => number;
}

export interface HubEvents extends DocumentEvents {
  /** A document changed; `ops` is empty for a snapshot. */
  change: { topic: Topic; version: number; ops: JsonPatchOperation[]; snapshot: boolean };
  connection: { state: ConnectionState };
  /** An `error` frame from the hub, or `connection_failed` when a connection attempt fails. */
  "hub-error": { code: string; message: string };
}

type Listener<E extends keyof HubEvents> = (payload: HubEvents[E]) => void;

export class HubClient extends HubApi {
  declare readonly options: HubClientOptions;
  private socket: SocketLike | null = null;
  private readonly mirror: DocumentMirror;
  private readonly listeners = new Map<keyof HubEvents, Set<(payload: never) => void>>();
  private connectionState: ConnectionState = "closed";
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private readyWaiters: (() => void)[] = [];

  constructor(options: HubClientOptions) {
    super(options);
    this.mirror = new DocumentMirror(options.topics ?? ["context", "health"]);
  }

  get state(): ConnectionState {
    return this.connectionState;
  }

  /** The live mirror of the context, or null before the first snapshot. */
  get context(): Context | null {
    return this.mirror.document("context");
  }

  get health(): Health | null {
    return this.mirror.document("health");
  }

  /** The live mirror of the usage document, when the client subscribes to topic `usage`. */
  get usage(): UsageDocument | null {
    return this.mirror.document("usage");
  }

  position(topic: Topic): StreamPosition | null {
    return this.mirror.position(topic);
  }

  on<E extends keyof HubEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Connects and resolves once every subscribed document has been received. */
  connect(): Promise<void> {
    this.stopped = false;
    const ready = this.whenReady();
    if (!this.socket) this.open("connecting");
    return ready;
  }

  /** Resolves when every subscribed topic holds a document. */
  whenReady(): Promise<void> {
    if (this.mirror.isReady()) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  close(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = () => undefined;
      socket.close(1000, "client closing");
    }
    this.setState("closed");
  }

  private open(state: ConnectionState): void {
    this.setState(state);
    const url = new URL("/ws", this.options.url);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let socket: SocketLike;
    try {
      socket = (this.options.socket ?? browserSocket)(url.toString(), headers);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.mirror.connected();
      this.send(this.mirror.subscribeFrame(this.mirror.topics));
      this.setState("live");
    };
    socket.onmessage = (event) => {
      // Backoff resets only once the hub really talks, so a hub that accepts and drops at
      // once is still retried ever more slowly.
      this.attempt = 0;
      this.receive(String(event.data));
    };
    // The close event follows and drives reconnection; the reason (a refused token or origin,
    // say) is passed on where the platform gives one — ws does, browsers do not.
    socket.onerror = (event) => {
      const message = (event as { message?: unknown } | null)?.message;
      if (typeof message === "string" && message) this.emit("hub-error", { code: "connection_failed", message });
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setState("reconnecting");
    const delay = reconnectDelay(this.attempt, this.options.reconnect, (this.options.random ?? Math.random)());
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this.open("reconnecting");
    }, delay);
  }

  private send(frame: ClientFrame): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private receive(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === "error") {
      this.emit("hub-error", { code: frame.code, message: frame.message });
      return;
    }
    const step = this.mirror.receive(frame);
    if (step.kind === "resubscribe") this.send(this.mirror.subscribeFrame([step.topic]));
    if (step.kind !== "changed") return;
    const { topic, version, ops, previous, next } = step;
    this.emit("change", { topic, version, ops, snapshot: ops.length === 0 });
    const derived =
      topic === "context"
        ? taskEvents(previous as Context | undefined, next as Context)
        : topic === "health"
          ? healthEvents(previous as Health | undefined, next as Health)
          : [];
    for (const { event, payload } of derived) this.emit(event, payload as never);
    if (this.mirror.isReady()) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private setState(state: ConnectionState): void {
    if (this.connectionState === state) return;
    this.connectionState = state;
    this.emit("connection", { state });
  }

  private emit<E extends keyof HubEvents>(event: E, payload: HubEvents[E]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        // One channel's bug must not stop the others from hearing the change.
        console.error(`hub client listener for ${event} failed:`, error);
      }
    }
  }
}

/**
 * The wait before reconnection attempt `attempt` (0-based): exponential backoff with "equal
 * jitter" — half the ceiling fixed, half random — so a restarted hub is not hit by every
 * client at the same instant, yet no client waits much less than the backoff intends.
 */
export function reconnectDelay(
  attempt: number,
  options: { initialDelayMs?: number; maxDelayMs?: number } = {},
  random: number = Math.random(),
): number {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 10_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random * (ceiling / 2);
}
