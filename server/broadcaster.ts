// Live push over WebSocket: snapshots, patches encoded once per change as a ready frame and
// written to every subscriber, resumption from recent history, back-pressure for slow readers,
// and heartbeats that reap dead clients.
import type { WebSocket } from "ws";
import { type ClientFrame, clientFrameSchema, type StreamPosition, TOPICS, type Topic } from "../shared/schemas.ts";
import { type Change, type DocumentFeed, opsJson } from "./document.ts";
import { describeZodError, preview } from "./errors.ts";
import type { Logger } from "./log.ts";
import { type EncodedFrame, encodeFrame, sendFrame } from "./ws-frame.ts";

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

/** How long a closing hub waits for clients to acknowledge 1001 before dropping them. */
const CLOSE_GRACE_MS = 1000;

interface Client {
  socket: WebSocket;
  topics: Set<Topic>;
  /** Topics whose patches were skipped because the client fell behind. */
  behind: Set<Topic>;
  /** A ping is queued behind the backlog; its write callback means the backlog has drained. */
  awaitingDrain: boolean;
  alive: boolean;
  badFrames: number;
}

/** What a client's text frame asks for, or why it is refused (a pure decision, tested alone). */
export function readClientFrame(text: string): ClientFrame | { code: string; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { code: "bad_json", message: `frames must be JSON text, for example ${SUBSCRIBE_EXAMPLE}` };
  }
  const type = (raw as { type?: unknown } | null)?.type;
  if (type !== "subscribe" && type !== "unsubscribe") {
    return {
      code: "unknown_type",
      message: `unknown frame type ${preview(type)}: send "subscribe" or "unsubscribe", for example ${SUBSCRIBE_EXAMPLE}`,
    };
  }
  const parsed = clientFrameSchema.safeParse(raw, { reportInput: true });
  if (parsed.success) return parsed.data;
  const badTopic = parsed.error.issues.some((issue) => issue.path[0] === "topics" && issue.code === "invalid_value");
  return badTopic
    ? { code: "unknown_topic", message: `unknown topic: the topics are ${TOPICS.join(", ")}` }
    : { code: "invalid_frame", message: `bad ${type} frame: ${describeZodError(parsed.error)}` };
}

const SUBSCRIBE_EXAMPLE = '{"type":"subscribe","topics":["context"]}';

export class Broadcaster {
  private readonly clients = new Set<Client>();
  private readonly documents: BroadcasterOptions["documents"];
  private readonly options: BroadcasterOptions;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribers: (() => void)[] = [];
  /** Encoded patch frames of recent changes, shared by every subscriber. */
  private readonly frames = new WeakMap<Change, EncodedFrame>();
  private readonly snapshots = new Map<Topic, { epoch: string; version: number; frame: EncodedFrame }>();
  private closing: Promise<void> | null = null;
  /** Frames encoded so far (each change's patch once, whatever the number of subscribers). */
  framesEncoded = 0;

  constructor(options: BroadcasterOptions) {
    this.options = options;
    this.documents = options.documents;
    for (const topic of TOPICS) {
      this.unsubscribers.push(this.documents[topic].subscribe((change) => this.publish(topic, change)));
      const onReset = this.documents[topic].onReset?.(() => this.resync(topic));
      if (onReset) this.unsubscribers.push(onReset);
    }
    this.heartbeat = setInterval(() => this.checkLiveness(), options.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over a freshly upgraded socket. */
  attach(socket: WebSocket): void {
    if (this.closing) {
      socket.close(CLOSE.goingAway, "hub shutting down");
      return;
    }
    const client: Client = {
      socket,
      topics: new Set(),
      behind: new Set(),
      awaitingDrain: false,
      alive: true,
      badFrames: 0,
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

  /**
   * Stops listening to the documents and closes every client with 1001 (going away); resolves
   * once all have gone, dropping any that do not answer the close within a second.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      clearInterval(this.heartbeat);
      for (const unsubscribe of this.unsubscribers) unsubscribe();
      const open = [...this.clients].map((client) => client.socket);
      if (open.length === 0) return resolve();
      let left = open.length;
      const grace = setTimeout(() => {
        for (const socket of open) socket.terminate();
        resolve();
      }, CLOSE_GRACE_MS);
      for (const socket of open) {
        socket.once("close", () => {
          left--;
          if (left === 0) {
            clearTimeout(grace);
            resolve();
          }
        });
        socket.close(CLOSE.goingAway, "hub shutting down");
      }
    });
    return this.closing;
  }

  /** The hub holds more for this client than `maxBufferedBytes`: it is not sent anything more now. */
  private isFull(client: Client): boolean {
    return client.socket.bufferedAmount > this.options.maxBufferedBytes;
  }

  /** Stops feeding a slow reader on `topic`; it gets a fresh snapshot once its buffer drains. */
  private fallBehind(client: Client, topic: Topic): void {
    client.behind.add(topic);
    this.awaitDrain(client);
  }

  private publish(topic: Topic, change: Change): void {
    let frame: EncodedFrame | undefined;
    for (const client of this.clients) {
      if (!client.topics.has(topic) || client.behind.has(topic)) continue;
      if (this.isFull(client)) {
        this.fallBehind(client, topic);
        continue;
      }
      frame ??= this.patchFrame(topic, change);
      this.send(client, frame);
    }
  }

  /** The document started over under a new epoch: every subscriber gets a fresh snapshot. */
  private resync(topic: Topic): void {
    for (const client of this.clients) {
      if (!client.topics.has(topic)) continue;
      client.behind.delete(topic);
      this.send(client, this.snapshotFrame(topic));
    }
  }

  private send(client: Client, frame: EncodedFrame): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    // No per-send callback: the hot path is one write per client (see awaitDrain).
    sendFrame(client.socket, frame);
  }

  /**
   * Catches a client up once everything queued for it has reached the kernel. Writes complete in
   * order, so the write callback of a ping queued behind the backlog says exactly that.
   */
  private awaitDrain(client: Client): void {
    if (client.awaitingDrain || client.socket.readyState !== client.socket.OPEN) return;
    client.awaitingDrain = true;
    client.socket.ping(undefined, false, (error) => {
      client.awaitingDrain = false;
      if (!error) this.catchUp(client);
    });
  }

  private catchUp(client: Client): void {
    const topics = [...client.behind];
    client.behind.clear();
    for (const topic of topics) {
      if (!client.topics.has(topic)) continue;
      // Several topics behind: each snapshot waits for room, like every other frame.
      if (this.isFull(client)) this.fallBehind(client, topic);
      else this.send(client, this.snapshotFrame(topic));
    }
  }

  private receive(client: Client, data: unknown, isBinary: boolean): void {
    if (isBinary) {
      client.socket.close(CLOSE.unsupportedData, "send JSON text frames");
      return;
    }
    const frame = readClientFrame(String(data));
    // A client that asks for more (a subscribe, or a bad frame that earns an error) while it has
    // not read what it was sent is dropped, not fed: its buffer would grow with every frame.
    if (this.isFull(client) && !("type" in frame && frame.type === "unsubscribe")) {
      client.socket.close(CLOSE.policyViolation, "too slow: read what was sent before asking for more");
      return;
    }
    if ("code" in frame) {
      this.reject(client, frame.code, frame.message);
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

  /**
   * Only the missed patches when `since` is still in history, otherwise a snapshot — within the
   * same buffer limit as live patches: once the client's buffer is past it, the rest waits, and
   * a fresh snapshot follows when the buffer has drained.
   */
  private sendInitial(client: Client, topic: Topic, since: StreamPosition | undefined): void {
    if (this.isFull(client)) {
      this.fallBehind(client, topic);
      return;
    }
    const missed = since ? this.documents[topic].changesSince(since.epoch, since.version) : null;
    if (!missed) {
      this.send(client, this.snapshotFrame(topic));
      return;
    }
    for (const change of missed) {
      if (this.isFull(client)) {
        this.fallBehind(client, topic);
        return;
      }
      this.send(client, this.patchFrame(topic, change));
    }
  }

  private reject(client: Client, code: string, message: string): void {
    client.badFrames++;
    if (client.badFrames > MAX_BAD_FRAMES) {
      client.socket.close(CLOSE.policyViolation, "too many bad frames");
      return;
    }
    this.send(client, this.encode(JSON.stringify({ type: "error", code, message })));
  }

  private patchFrame(topic: Topic, change: Change): EncodedFrame {
    let frame = this.frames.get(change);
    if (!frame) {
      // JSON.stringify of {type, topic, epoch, version, ops}, the ops' text made once for the change.
      const head = `{"type":"patch","topic":${JSON.stringify(topic)},"epoch":${JSON.stringify(change.epoch)}`;
      frame = this.encode(`${head},"version":${change.version},"ops":${opsJson(change.ops)}}`);
      this.frames.set(change, frame);
    }
    return frame;
  }

  private snapshotFrame(topic: Topic): EncodedFrame {
    const document = this.documents[topic];
    const cached = this.snapshots.get(topic);
    if (cached && cached.epoch === document.epoch && cached.version === document.version) return cached.frame;
    const snapshot = {
      type: "snapshot",
      topic,
      epoch: document.epoch,
      version: document.version,
      data: document.state,
    };
    const frame = this.encode(JSON.stringify(snapshot));
    this.snapshots.set(topic, { epoch: document.epoch, version: document.version, frame });
    return frame;
  }

  private encode(message: string): EncodedFrame {
    this.framesEncoded++;
    return encodeFrame(message);
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
