// Live push over WebSocket: snapshots, patches serialized once per change, resumption from
// recent history, back-pressure for slow readers, and heartbeats that reap dead clients.
import type { WebSocket } from "ws";
import type { Change, DocumentFeed } from "./document.ts";
import { describeZodError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { type ClientFrame, clientFrameSchema, type StreamPosition, TOPICS, type Topic } from "./schemas.ts";

export interface BroadcasterOptions {
  documents: Record<Topic, DocumentFeed>;
  /** A client whose send buffer passes this stops receiving patches until it drains. */
  maxBufferedBytes: number;
  heartbeatIntervalMs: number;
  logger: Logger;
}

/** Close codes (RFC 6455). */
export const CLOSE = {
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
} as const;

/** Bad frames tolerated in a row before the client is closed for policy violation. */
const MAX_BAD_FRAMES = 20;

interface Client {
  socket: WebSocket;
  topics: Set<Topic>;
  /** Topics whose patches were skipped because the client fell behind. */
  behind: Set<Topic>;
  unsentCallbacks: number;
  alive: boolean;
  badFrames: number;
  onSent: (error?: Error) => void;
}

export class Broadcaster {
  private readonly clients = new Set<Client>();
  private readonly documents: BroadcasterOptions["documents"];
  private readonly options: BroadcasterOptions;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribers: (() => void)[] = [];
  /** Serialized patch frames of recent changes, shared by every subscriber. */
  private readonly frames = new WeakMap<Change, string>();
  private readonly snapshots = new Map<Topic, { version: number; frame: string }>();

  constructor(options: BroadcasterOptions) {
    this.options = options;
    this.documents = options.documents;
    for (const topic of TOPICS) {
      this.unsubscribers.push(this.documents[topic].subscribe((change) => this.publish(topic, change)));
    }
    this.heartbeat = setInterval(() => this.checkLiveness(), options.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over a freshly upgraded socket. */
  attach(socket: WebSocket): void {
    const client: Client = {
      socket,
      topics: new Set(),
      behind: new Set(),
      unsentCallbacks: 0,
      alive: true,
      badFrames: 0,
      onSent: () => {
        client.unsentCallbacks--;
        if (client.unsentCallbacks === 0 && client.behind.size > 0) this.catchUp(client);
      },
    };
    this.clients.add(client);
    socket.on("pong", () => {
      client.alive = true;
    });
    socket.on("message", (data, isBinary) => this.receive(client, data, isBinary));
    socket.on("close", () => this.clients.delete(client));
    socket.on("error", (error) => {
      this.options.logger.debug(`websocket client error: ${error.message}`);
      this.clients.delete(client);
    });
  }

  /** Closes every client with 1001 (going away) and stops listening to the documents. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    for (const client of this.clients) client.socket.close(CLOSE.goingAway, "hub shutting down");
  }

  private publish(topic: Topic, change: Change): void {
    let frame: string | undefined;
    for (const client of this.clients) {
      if (!client.topics.has(topic) || client.behind.has(topic)) continue;
      if (client.socket.bufferedAmount > this.options.maxBufferedBytes) {
        // Stop feeding a slow reader; it gets a fresh snapshot once its buffer drains.
        client.behind.add(topic);
        continue;
      }
      frame ??= this.patchFrame(topic, change);
      this.send(client, frame);
    }
  }

  private send(client: Client, frame: string): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    client.unsentCallbacks++;
    client.socket.send(frame, client.onSent);
  }

  private catchUp(client: Client): void {
    const topics = [...client.behind];
    client.behind.clear();
    for (const topic of topics) if (client.topics.has(topic)) this.send(client, this.snapshotFrame(topic));
  }

  private receive(client: Client, data: unknown, isBinary: boolean): void {
    if (isBinary) {
      client.socket.close(CLOSE.unsupportedData, "send JSON text frames");
      return;
    }
    let frame: ClientFrame;
    try {
      const parsed = clientFrameSchema.safeParse(JSON.parse(String(data)));
      if (!parsed.success) {
        this.reject(client, "invalid_frame", `bad frame: ${describeZodError(parsed.error)}`);
        return;
      }
      frame = parsed.data;
    } catch {
      this.reject(
        client,
        "bad_json",
        'frames must be JSON text, for example {"type":"subscribe","topics":["context"]}',
      );
      return;
    }
    client.badFrames = 0;
    if (frame.type === "unsubscribe") {
      for (const topic of frame.topics) {
        client.topics.delete(topic);
        client.behind.delete(topic);
      }
      return;
    }
    for (const topic of frame.topics) {
      client.topics.add(topic);
      client.behind.delete(topic);
      this.sendInitial(client, topic, frame.since?.[topic]);
    }
  }

  /** Only the missed patches when `since` is still in history, otherwise a snapshot. */
  private sendInitial(client: Client, topic: Topic, since: StreamPosition | undefined): void {
    const missed = since ? this.documents[topic].changesSince(since.epoch, since.version) : null;
    if (missed) {
      for (const change of missed) this.send(client, this.patchFrame(topic, change));
    } else {
      this.send(client, this.snapshotFrame(topic));
    }
  }

  private reject(client: Client, code: string, message: string): void {
    client.badFrames++;
    if (client.badFrames > MAX_BAD_FRAMES) {
      client.socket.close(CLOSE.policyViolation, "too many bad frames");
      return;
    }
    this.send(client, JSON.stringify({ type: "error", code, message }));
  }

  private patchFrame(topic: Topic, change: Change): string {
    let frame = this.frames.get(change);
    if (!frame) {
      frame = JSON.stringify({ type: "patch", topic, epoch: change.epoch, version: change.version, ops: change.ops });
      this.frames.set(change, frame);
    }
    return frame;
  }

  private snapshotFrame(topic: Topic): string {
    const document = this.documents[topic];
    const cached = this.snapshots.get(topic);
    if (cached && cached.version === document.version) return cached.frame;
    const frame = JSON.stringify({
      type: "snapshot",
      topic,
      epoch: document.epoch,
      version: document.version,
      data: document.state,
    });
    this.snapshots.set(topic, { version: document.version, frame });
    return frame;
  }

  private checkLiveness(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.socket.terminate();
        this.clients.delete(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }
}
