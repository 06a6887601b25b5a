// The hub client SDK for every channel, in Node and in the browser: a live mirror of each
// document kept by snapshots and patches, resumption after gaps and disconnects, typed events,
// and the REST calls of the contract.
import type {
  Channel,
  Context,
  ErrorBody,
  Health,
  JsonPatchOperation,
  RouteRequest,
  ServerFrame,
  StreamPosition,
  Task,
  Topic,
  TopicDocument,
} from "../server/schemas.ts";
import { applyPatch } from "./json-patch.ts";

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

export interface HubClientOptions {
  /** The hub's base URL, e.g. http://127.0.0.1:7433 */
  url: string;
  token?: string | null;
  topics?: Topic[];
  /** Opens a WebSocket; defaults to the browser's. Node callers use createNodeHubClient (ws). */
  socket?: SocketFactory;
  fetch?: typeof fetch;
  /** The channel this client acts for; sent with actions so the hub records who acted. */
  channel?: Channel;
  /** Reconnection backoff: the ceiling doubles per failed attempt from initialDelayMs up to maxDelayMs. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Source of jitter (injected in tests). */
  random?: () => number;
}

export interface HubEvents {
  /** A document changed; `ops` is empty for a snapshot. */
  change: { topic: Topic; version: number; ops: JsonPatchOperation[]; snapshot: boolean };
  /** A task was added or changed while active. */
  "task-progress": { task: Task; previous: Task | null };
  /** A task arrived in `recentCompleted` (complete or failed). */
  "task-completed": { task: Task };
  /** One backend's health entry changed. */
  "health-changed": { backend: string; entry: Health["backends"][string]; previous: Health["backends"][string] | null };
  connection: { state: ConnectionState };
  /** An `error` frame from the hub, or `connection_failed` when a connection attempt fails. */
  "hub-error": { code: string; message: string };
}

type Listener<E extends keyof HubEvents> = (payload: HubEvents[E]) => void;

export class HubError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "HubError";
    this.status = status;
    this.code = code;
  }
}

export class HubClient {
  readonly options: HubClientOptions;
  private socket: SocketLike | null = null;
  private readonly topics: Topic[];
  private readonly documents: Partial<TopicDocument> = {};
  private readonly positions: Partial<Record<Topic, StreamPosition>> = {};
  private readonly listeners = new Map<keyof HubEvents, Set<(payload: never) => void>>();
  private connectionState: ConnectionState = "closed";
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private readyWaiters: (() => void)[] = [];
  /** Topics for which a resubscribe is in flight, so a burst of gapped patches asks only once. */
  private readonly resyncing = new Set<Topic>();

  constructor(options: HubClientOptions) {
    this.options = options;
    this.topics = options.topics ?? ["context", "health"];
  }

  get state(): ConnectionState {
    return this.connectionState;
  }

  /** The live mirror of the context, or null before the first snapshot. */
  get context(): Context | null {
    return this.documents.context ?? null;
  }

  get health(): Health | null {
    return this.documents.health ?? null;
  }

  position(topic: Topic): StreamPosition | null {
    return this.positions[topic] ?? null;
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
    if (this.isReady()) return Promise.resolve();
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

  // ---- REST -----------------------------------------------------------------------------

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const response = await doFetch(new URL(path, this.options.url), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const error = (parsed as ErrorBody | undefined)?.error;
      throw new HubError(response.status, error?.code ?? "http_error", error?.message ?? `HTTP ${response.status}`);
    }
    return parsed as T;
  }

  getContext = () => this.request<Context>("GET", "/api/context");
  getTask = (taskId: string) => this.request<Task>("GET", `/api/context/tasks/${encodeURIComponent(taskId)}`);
  addTask = (task: Record<string, unknown>) => this.request<Task>("POST", "/api/context/tasks", task);
  updateTask = (taskId: string, updates: Record<string, unknown>) =>
    this.request<Task>("PATCH", `/api/context/tasks/${encodeURIComponent(taskId)}`, updates);
  completeTask = (taskId: string, result: Record<string, unknown> = {}) =>
    this.request<Task>("POST", `/api/context/tasks/${encodeURIComponent(taskId)}/complete`, result);
  setChannelActive = (channel: Channel, taskId?: string) =>
    this.request("POST", `/api/channels/${channel}/active`, taskId ? { taskId } : {});
  getChannelState = (channel: Channel) => this.request("GET", `/api/channels/${channel}`);
  getHealth = () => this.request<Health>("GET", "/api/health");
  ping = (backend: string) => this.request("POST", `/api/health/${encodeURIComponent(backend)}/ping`, {});
  prewarm = (backend: string) => this.request("POST", `/api/health/${encodeURIComponent(backend)}/prewarm`, {});
  route = (request: RouteRequest) => this.request<{ taskId: string }>("POST", "/api/route", request);
  approve = (taskId: string) => this.act(taskId, "approve");
  reject = (taskId: string, reason?: string) => this.act(taskId, "reject", reason);
  cancel = (taskId: string) => this.act(taskId, "cancel");

  private act(taskId: string, action: "approve" | "reject" | "cancel", reason?: string) {
    const body: Record<string, string> = {};
    if (this.options.channel) body.channel = this.options.channel;
    if (reason) body.reason = reason;
    return this.request<Task>("POST", `/api/context/tasks/${encodeURIComponent(taskId)}/${action}`, body);
  }

  // ---- WebSocket ------------------------------------------------------------------------

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
      this.resyncing.clear();
      this.subscribe(this.topics);
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

  /** Subscribes, resuming each topic from the position already held. */
  private subscribe(topics: Topic[]): void {
    const since: Partial<Record<Topic, StreamPosition>> = {};
    for (const topic of topics) {
      const position = this.positions[topic];
      if (position) since[topic] = position;
    }
    const frame = Object.keys(since).length > 0 ? { type: "subscribe", topics, since } : { type: "subscribe", topics };
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
    if (frame.type === "snapshot") {
      this.resyncing.delete(frame.topic);
      this.replace(frame.topic, frame.data as TopicDocument[Topic], { epoch: frame.epoch, version: frame.version }, []);
      return;
    }
    if (frame.type === "patch") {
      const position = this.positions[frame.topic];
      if (!position || position.epoch !== frame.epoch || frame.version <= position.version) {
        if (position && position.epoch === frame.epoch && frame.version <= position.version) return; // duplicate
        this.resync(frame.topic);
        return;
      }
      if (frame.version !== position.version + 1) {
        this.resync(frame.topic);
        return;
      }
      let next: TopicDocument[Topic];
      try {
        next = applyPatch(this.documents[frame.topic] as TopicDocument[Topic], frame.ops);
      } catch {
        this.resync(frame.topic, true);
        return;
      }
      this.resyncing.delete(frame.topic);
      this.replace(frame.topic, next, { epoch: frame.epoch, version: frame.version }, frame.ops);
    }
  }

  /** Asks again from the held position (or from scratch), which yields missed patches or a snapshot. */
  private resync(topic: Topic, fromScratch = false): void {
    if (fromScratch) delete this.positions[topic];
    else if (this.resyncing.has(topic)) return;
    this.resyncing.add(topic);
    this.subscribe([topic]);
  }

  private replace(topic: Topic, next: TopicDocument[Topic], position: StreamPosition, ops: JsonPatchOperation[]): void {
    const previous = this.documents[topic];
    (this.documents as Record<Topic, unknown>)[topic] = next;
    this.positions[topic] = position;
    this.emit("change", { topic, version: position.version, ops, snapshot: ops.length === 0 });
    if (topic === "context") this.emitTaskEvents(previous as Context | undefined, next as Context);
    else this.emitHealthEvents(previous as Health | undefined, next as Health);
    if (this.isReady()) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private emitTaskEvents(previous: Context | undefined, next: Context): void {
    const before = new Map<string, Task>();
    for (const task of previous?.activeTasks ?? []) before.set(task.taskId, task);
    const finishedBefore = new Set((previous?.recentCompleted ?? []).map((t) => t.taskId));
    for (const task of next.activeTasks) {
      const old = before.get(task.taskId) ?? null;
      if (old !== task && JSON.stringify(old) !== JSON.stringify(task)) {
        this.emit("task-progress", { task, previous: old });
      }
    }
    if (previous) {
      for (const task of next.recentCompleted) {
        if (!finishedBefore.has(task.taskId)) this.emit("task-completed", { task });
      }
    }
  }

  private emitHealthEvents(previous: Health | undefined, next: Health): void {
    for (const [backend, entry] of Object.entries(next.backends)) {
      const old = previous?.backends[backend] ?? null;
      if (old !== entry && JSON.stringify(old) !== JSON.stringify(entry)) {
        this.emit("health-changed", { backend, entry, previous: old });
      }
    }
  }

  private isReady(): boolean {
    return this.topics.every((topic) => this.documents[topic] !== undefined);
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
