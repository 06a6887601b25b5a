// A versioned document whose truth lives in Redis, shared by every hub on it. Each hub holds a
// mirror (state, version, recent history) that it changes only in version order: from its own
// commits and from the topic's stream, which it tails. A change is computed here in TypeScript
// on the mirror, then committed by one Lua script that checks the epoch and version; on a
// conflict the mirror catches up and the change is computed again on the newer state.
// Changes that arrive while a commit is in flight go out together in the next one (group
// commit): one round trip and one Redis fsync for the whole batch.
import { randomBytes } from "node:crypto";
import fastJsonPatch from "fast-json-patch";
import type { Redis } from "ioredis";
import type { JsonPatchOperation } from "../../shared/schemas.ts";
import { type Change, opsFromJson, opsJson, VersionedDocument } from "../document.ts";
import { SwitchboardError } from "../errors.ts";
import { diff } from "../json-diff.ts";
import type { Logger } from "../log.ts";
import { entryId, type TopicKeys, versionOfEntry } from "./redis-keys.ts";
import { COMMIT_SCRIPT, OPEN_SCRIPT } from "./scripts.ts";

/** Changes committed in one script call at most. */
const MAX_BATCH = 500;
/** Conflicts in a row before a change is refused as "busy" (other hubs keep winning). */
const MAX_ATTEMPTS = 50;
/** How long Redis remembers a committed batch, so a resent commit is recognised. */
const IDEMPOTENCY_TTL_MS = 5 * 60_000;

type StreamEntry = [id: string, fields: string[]];

interface Pending<T> {
  next: (state: T) => T;
  resolve: (change: Change | null) => void;
  reject: (error: unknown) => void;
}

export interface SharedDocumentOptions<T> {
  redis: Redis;
  keys: TopicKeys;
  topic: string;
  /** The document to start from when Redis has none (the JSON file, or empty). */
  initial: T;
  /** Checks a document read from Redis (the topic's zod schema). */
  parse: (value: unknown) => T;
  historyLimit: number;
  /** Bytes of history kept in this hub's memory (hub.historyLimitBytes). */
  historyLimitBytes?: number;
  logger: Logger;
}

export class SharedDocument<T> extends VersionedDocument<T> {
  private readonly redis: Redis;
  private readonly keys: TopicKeys;
  private readonly topic: string;
  private readonly parse: (value: unknown) => T;
  private readonly logger: Logger;
  private readonly queue: Pending<T>[] = [];
  private committing: Promise<void> | null = null;
  private catchingUp: Promise<void> | null = null;
  private readonly resetListeners = new Set<() => void>();
  private opened = false;

  constructor(options: SharedDocumentOptions<T>) {
    super({
      initial: options.initial,
      historyLimit: options.historyLimit,
      ...(options.historyLimitBytes ? { historyLimitBytes: options.historyLimitBytes } : {}),
    });
    this.redis = options.redis;
    this.keys = options.keys;
    this.topic = options.topic;
    this.parse = options.parse;
    this.logger = options.logger;
  }

  /**
   * Joins the topic in Redis: seeds it when empty, starts a new epoch when the Redis that holds
   * it is not the one that wrote it, then loads the document, version and history.
   */
  async open(runId: string): Promise<"created" | "restarted" | "same"> {
    const [outcome] = (await this.redis.eval(
      OPEN_SCRIPT,
      3,
      this.keys.doc,
      this.keys.meta,
      this.keys.log,
      runId,
      randomBytes(6).toString("base64url"),
      JSON.stringify(this.current),
    )) as [string, string];
    await this.load();
    return outcome as "created" | "restarted" | "same";
  }

  /** The stream position this hub has reached (for the tail's XREAD). */
  get position(): string {
    return entryId(this.versionNumber);
  }

  onReset(listener: () => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  override mutate(next: (state: T) => T): Promise<Change | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ next, resolve, reject });
      this.startCommitting();
    });
  }

  private startCommitting(): void {
    this.committing ??= this.commitQueued().finally(() => {
      this.committing = null;
      // A change queued after the loop last looked, before this ran, would otherwise wait
      // forever: its caller saw a commit running and started none (a caller that awaits one
      // change and makes the next at once, as a router does).
      if (this.queue.length > 0) this.startCommitting();
    });
  }

  /** Fire and forget: the change is committed (durably) in the background. */
  override apply(next: (state: T) => T): Change | null {
    this.mutate(next).catch((error: Error) =>
      this.logger.warn(`${this.topic}: a change was not saved: ${error.message}`),
    );
    return null;
  }

  /** Every change asked for so far is committed. */
  override async whenDurable(): Promise<void> {
    while (this.committing) await this.committing;
  }

  override persist(): Promise<void> {
    return this.whenDurable();
  }

  /** Entries from the topic's stream, as the tail reads them. */
  receive(entries: StreamEntry[]): void {
    for (const [id, fields] of entries) {
      const version = versionOfEntry(id);
      if (version <= this.versionNumber) continue;
      if (version !== this.versionNumber + 1) {
        this.catchUp().catch((error: Error) => this.logger.warn(`${this.topic}: catching up failed: ${error.message}`));
        return;
      }
      this.applyEntry(version, fields);
    }
  }

  /** Reads what this hub missed from the stream, or starts over when the history is gone. */
  catchUp(): Promise<void> {
    this.catchingUp ??= this.readMissed().finally(() => {
      this.catchingUp = null;
    });
    return this.catchingUp;
  }

  /** Checks the epoch in Redis; another one means the topic started over: load it. */
  async checkEpoch(): Promise<void> {
    const epoch = await this.redis.hget(this.keys.meta, "epoch");
    if (epoch !== null && epoch !== this.epoch) await this.load();
  }

  private async readMissed(): Promise<void> {
    // The tail may move the mirror on while this reads: judge what came back against `from`.
    const from = this.versionNumber;
    const [[, meta], [, entries]] = (await this.redis
      .multi()
      .hmget(this.keys.meta, "epoch", "version")
      .xrange(this.keys.log, entryId(from + 1), "+")
      .exec()) as [[null, (string | null)[]], [null, StreamEntry[]]];
    const [epoch, version] = meta;
    const first = entries[0];
    const covered = first ? versionOfEntry(first[0]) === from + 1 : Number(version) === from;
    // Another epoch, or history trimmed past what this hub holds: start over from the document.
    if (epoch !== this.epoch || !covered) {
      await this.load();
      return;
    }
    for (const [id, fields] of entries) {
      const next = versionOfEntry(id);
      if (next === this.versionNumber + 1) this.applyEntry(next, fields);
    }
  }

  private applyEntry(version: number, fields: string[]): void {
    const ops = opsFromJson(fields[1] as string);
    const after = fastJsonPatch.applyPatch(this.current, ops as fastJsonPatch.Operation[], false, false)
      .newDocument as T;
    this.advance(version, ops, after);
  }

  private advance(version: number, ops: JsonPatchOperation[], after: T): Change {
    this.current = after;
    this.versionNumber = version;
    const change: Change = { epoch: this.epoch, version, ops };
    this.remember(change);
    for (const listener of this.listeners) listener(change, after);
    return change;
  }

  /**
   * Replaces the mirror with what Redis holds. Unless this is the first load, subscribers were
   * not sent what lies between (another epoch, or history trimmed): they need snapshots.
   */
  private async load(): Promise<void> {
    const [[, doc], [, meta], [, entries]] = (await this.redis
      .multi()
      .get(this.keys.doc)
      .hmget(this.keys.meta, "epoch", "version")
      .xrange(this.keys.log, "-", "+")
      .exec()) as [[null, string | null], [null, (string | null)[]], [null, StreamEntry[]]];
    const [epoch, version] = meta;
    if (doc === null || !epoch) throw new Error(`the ${this.topic} document is missing in Redis`);
    // The tail moved the mirror past what this read saw: the mirror is newer; keep it.
    if (this.opened && epoch === this.epoch && Number(version ?? 0) < this.versionNumber) return;
    const state = this.parse(JSON.parse(doc));
    const reset = this.opened && (epoch !== this.epoch || Number(version ?? 0) !== this.versionNumber);
    this.opened = true;
    this.current = state;
    this.epoch = epoch;
    this.versionNumber = Number(version ?? 0);
    this.forgetHistory();
    for (const [id, fields] of entries.slice(-this.historyLimit)) {
      this.remember({
        epoch,
        version: versionOfEntry(id),
        ops: opsFromJson(fields[1] as string),
      });
    }
    if (reset) for (const listener of this.resetListeners) listener();
  }

  private async commitQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.commitBatch(batch);
      } catch (error) {
        const refused =
          error instanceof SwitchboardError
            ? error
            : new SwitchboardError(
                "persistence_failed",
                `the change could not be saved to Redis: ${(error as Error).message}. Check that Redis is running and reachable; nothing was acknowledged.`,
              );
        for (const pending of batch) pending.reject(refused);
      }
    }
  }

  private async commitBatch(batch: Pending<T>[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const baseVersion = this.versionNumber;
      const epoch = this.epoch;
      // Each change is computed on the state the previous one left; a refused change (its
      // function threw) is answered alone and changes nothing.
      let state = this.current;
      const outcomes: ({ ops: JsonPatchOperation[]; after: T } | { error: unknown } | null)[] = [];
      for (const pending of batch) {
        try {
          const after = pending.next(state);
          const ops = diff(state, after);
          outcomes.push(ops.length > 0 ? { ops, after } : null);
          if (ops.length > 0) state = after;
        } catch (error) {
          outcomes.push({ error });
        }
      }
      const changed = outcomes.filter((o): o is { ops: JsonPatchOperation[]; after: T } => o !== null && "ops" in o);
      let committed: Change[] = [];
      if (changed.length > 0) {
        const reply = (await this.redis.eval(
          COMMIT_SCRIPT,
          4,
          this.keys.doc,
          this.keys.meta,
          this.keys.log,
          `${this.keys.idempotency}${randomBytes(9).toString("base64url")}`,
          epoch,
          baseVersion,
          JSON.stringify(state),
          this.historyLimit,
          IDEMPOTENCY_TTL_MS,
          ...changed.map((o) => opsJson(o.ops)),
        )) as [string, string];
        const [outcome] = reply;
        if (outcome === "conflict" || outcome === "epoch") {
          if (attempt >= MAX_ATTEMPTS) {
            throw new SwitchboardError(
              "unavailable",
              `the ${this.topic} document kept changing on other hubs (${attempt} tries); send the change again`,
            );
          }
          if (outcome === "epoch") await this.load();
          else await this.catchUp();
          continue;
        }
        // "done": this very commit ran before and its reply was lost (resent after a reconnect).
        committed = this.settleCommitted(Number(reply[1]) - changed.length, changed);
      }
      let next = 0;
      for (const [i, outcome] of outcomes.entries()) {
        const pending = batch[i] as Pending<T>;
        if (outcome === null) pending.resolve(null);
        else if ("error" in outcome) pending.reject(outcome.error);
        else pending.resolve(committed[next++] ?? null);
      }
      return;
    }
  }

  /**
   * Brings the mirror to the committed versions: the tail may have applied some of them already
   * (it reads the same stream on another connection), never any other hub's change between.
   */
  private settleCommitted(baseVersion: number, changed: { ops: JsonPatchOperation[]; after: T }[]): Change[] {
    const changes: Change[] = [];
    for (const [i, { ops, after }] of changed.entries()) {
      const version = baseVersion + i + 1;
      if (version <= this.versionNumber) {
        const known = this.history.find((c) => c.version === version);
        changes.push(known ?? { epoch: this.epoch, version, ops });
        continue;
      }
      changes.push(this.advance(version, ops, after));
    }
    return changes;
  }
}
