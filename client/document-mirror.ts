// The client's copy of the hub's documents: one per subscribed topic with its stream position
// (epoch, version), kept by snapshots and in-order patches. It decides what a frame means — a
// change, a gap or a stale epoch to resubscribe from, a duplicate to drop — and leaves the socket
// to the hub client.
import type {
  ClientFrame,
  JsonPatchOperation,
  PatchFrame,
  SnapshotFrame,
  StreamPosition,
  Topic,
  TopicDocument,
} from "../shared/schemas.ts";
import { applyPatch } from "./json-patch.ts";

/** What a frame did to the mirror. */
export type MirrorStep =
  | {
      kind: "changed";
      topic: Topic;
      previous: TopicDocument[Topic] | undefined;
      next: TopicDocument[Topic];
      version: number;
      /** Empty for a snapshot. */
      ops: JsonPatchOperation[];
    }
  /** Ask the hub again for this topic (send `subscribeFrame([topic])`): a gap, a new epoch or a patch that did not apply. */
  | { kind: "resubscribe"; topic: Topic }
  /** Nothing to do: a duplicate, or a resubscribe for this topic is already in flight. */
  | { kind: "none" };

export class DocumentMirror {
  readonly topics: readonly Topic[];
  private readonly documents: Partial<TopicDocument> = {};
  private readonly positions: Partial<Record<Topic, StreamPosition>> = {};
  /** Topics for which a resubscribe is in flight, so a burst of gapped patches asks only once. */
  private readonly resyncing = new Set<Topic>();

  constructor(topics: readonly Topic[]) {
    this.topics = topics;
  }

  document<T extends Topic>(topic: T): TopicDocument[T] | null {
    return (this.documents[topic] as TopicDocument[T] | undefined) ?? null;
  }

  position(topic: Topic): StreamPosition | null {
    return this.positions[topic] ?? null;
  }

  /** Whether every subscribed topic holds a document. */
  isReady(): boolean {
    return this.topics.every((topic) => this.documents[topic] !== undefined);
  }

  /** The subscribe frame for `topics`, resuming each from the position held. */
  subscribeFrame(topics: readonly Topic[]): ClientFrame {
    const since: Partial<Record<Topic, StreamPosition>> = {};
    for (const topic of topics) {
      const position = this.positions[topic];
      if (position) since[topic] = position;
    }
    return Object.keys(since).length > 0
      ? { type: "subscribe", topics: [...topics], since }
      : { type: "subscribe", topics: [...topics] };
  }

  /** A new connection subscribes to everything afresh: no resubscribe is in flight any more. */
  connected(): void {
    this.resyncing.clear();
  }

  receive(frame: SnapshotFrame | PatchFrame): MirrorStep {
    const { topic } = frame;
    if (frame.type === "snapshot") {
      this.resyncing.delete(topic);
      return this.replace(topic, frame.data as TopicDocument[Topic], frame, []);
    }
    const position = this.positions[topic];
    if (position && position.epoch === frame.epoch && frame.version <= position.version) return { kind: "none" };
    if (!position || position.epoch !== frame.epoch || frame.version !== position.version + 1) {
      return this.resync(topic, false);
    }
    let next: TopicDocument[Topic];
    try {
      next = applyPatch(this.documents[topic] as TopicDocument[Topic], frame.ops);
    } catch {
      // The held copy and the hub disagree: start this topic again from a snapshot.
      return this.resync(topic, true);
    }
    this.resyncing.delete(topic);
    return this.replace(topic, next, frame, frame.ops);
  }

  private resync(topic: Topic, fromScratch: boolean): MirrorStep {
    if (fromScratch) delete this.positions[topic];
    else if (this.resyncing.has(topic)) return { kind: "none" };
    this.resyncing.add(topic);
    return { kind: "resubscribe", topic };
  }

  private replace(
    topic: Topic,
    next: TopicDocument[Topic],
    position: StreamPosition,
    ops: JsonPatchOperation[],
  ): MirrorStep {
    const previous = this.documents[topic];
    (this.documents as Record<Topic, unknown>)[topic] = next;
    this.positions[topic] = { epoch: position.epoch, version: position.version };
    return { kind: "changed", topic, previous, next, version: position.version, ops };
  }
}
