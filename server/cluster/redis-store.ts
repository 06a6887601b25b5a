// Several hubs on one Redis: the shared documents, the tail that brings every other hub's
// changes into this hub's mirrors (and so to its WebSocket clients), the leases, and the one
// hub that keeps writing the JSON files for programs that read them.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { DurableJsonFile } from "../durable-file.ts";
import type { Logger } from "../log.ts";
import { Leases } from "./leases.ts";
import { topicKeys } from "./redis-keys.ts";
import { SharedDocument } from "./shared-document.ts";

/** How long the tail waits for new entries before it checks the epochs. */
const TAIL_BLOCK_MS = 1000;
/** A lease not renewed for this long is taken over. */
export const DEFAULT_LEASE_TTL_MS = 10_000;
const FILE_LEASE = "files";

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  historyLimit: number;
  /** Bytes of history each document keeps in this hub's memory. */
  historyLimitBytes?: number;
  logger: Logger;
  leaseTtlMs?: number;
}

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

export class RedisStore {
  readonly hubId = `hub_${randomBytes(6).toString("base64url")}`;
  readonly leases: Leases;
  private readonly options: RedisStoreOptions;
  private readonly redis: Redis;
  private readonly tail: Redis;
  private readonly documents = new Map<string, SharedDocument<unknown>>();
  private readonly snapshots: { document: SharedDocument<unknown>; file: DurableJsonFile; stop: () => void }[] = [];
  private closed = false;
  private tailLoop: Promise<void> | null = null;
  private fileTimer: NodeJS.Timeout | null = null;

  constructor(options: RedisStoreOptions) {
    this.options = options;
    const connection = {
      // Commands wait (in order) while Redis is briefly away rather than failing at once.
      maxRetriesPerRequest: 20,
      retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2000),
      lazyConnect: true,
    };
    this.redis = new Redis(options.url, connection);
    this.tail = new Redis(options.url, { ...connection, maxRetriesPerRequest: null });
    for (const client of [this.redis, this.tail]) {
      client.on("error", (error: Error) => options.logger.debug(`redis: ${error.message}`));
    }
    this.leases = new Leases({
      redis: this.redis,
      keyPrefix: options.keyPrefix,
      hubId: this.hubId,
      ttlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      logger: options.logger,
    });
  }

  /** A topic's document, shared through Redis; opened by `start`. */
  document<T>(topic: string, options: { initial: T; parse: (value: unknown) => T }): SharedDocument<T> {
    const document = new SharedDocument<T>({
      redis: this.redis,
      keys: topicKeys(this.options.keyPrefix, topic),
      topic,
      initial: options.initial,
      parse: options.parse,
      historyLimit: this.options.historyLimit,
      ...(this.options.historyLimitBytes ? { historyLimitBytes: this.options.historyLimitBytes } : {}),
      logger: this.options.logger,
    });
    this.documents.set(topicKeys(this.options.keyPrefix, topic).log, document as SharedDocument<unknown>);
    return document;
  }

  /**
   * While this hub holds the file lease, it writes the document to `file` after changes, as a
   * readable snapshot for other programs (Redis, not the file, makes a change durable).
   */
  writeSnapshots<T>(document: SharedDocument<T>, file: DurableJsonFile): void {
    const write = () => {
      if (this.leases.holding.has(FILE_LEASE)) file.write(() => document.state).catch(() => {});
    };
    const stop = document.subscribe(write);
    this.snapshots.push({ document: document as SharedDocument<unknown>, file, stop });
  }

  /** Connects, opens every document and starts following the other hubs' changes. */
  async start(): Promise<void> {
    try {
      await Promise.all([this.redis.connect(), this.tail.connect()]);
    } catch (error) {
      throw new Error(
        `could not reach Redis at ${redactUrl(this.options.url)}: ${(error as Error).message}. Start redis-server or fix store.url in config.json`,
      );
    }
    await this.openAll();
    // A reconnect may be to a restarted Redis: open again (a new run id starts a new epoch).
    this.redis.on("ready", () => {
      if (!this.closed) this.openAll().catch((error: Error) => this.options.logger.warn(`redis: ${error.message}`));
    });
    this.tailLoop = this.follow();
    await this.claimFiles();
    this.fileTimer = setInterval(() => this.claimFiles().catch(() => {}), DEFAULT_LEASE_TTL_MS / 2);
    this.fileTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.fileTimer) clearInterval(this.fileTimer);
    for (const snapshot of this.snapshots) snapshot.stop();
    await Promise.all([...this.documents.values()].map((d) => d.whenDurable().catch(() => {})));
    await Promise.all(this.snapshots.map((s) => s.file.close()));
    await this.leases.close().catch(() => {});
    this.tail.disconnect();
    await this.tailLoop;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async openAll(): Promise<void> {
    const info = await this.redis.info("server");
    const runId = /run_id:(\w+)/.exec(info)?.[1] ?? "unknown";
    for (const document of this.documents.values()) {
      const outcome = await document.open(runId);
      if (outcome === "restarted") {
        this.options.logger.warn(`redis restarted: a new epoch for ${document.position}; clients take a snapshot`);
      }
    }
  }

  private async claimFiles(): Promise<void> {
    const had = this.leases.holding.has(FILE_LEASE);
    if (!(await this.leases.claim(FILE_LEASE)) || had) return;
    // Newly the writer: bring the files up to date at once.
    for (const { document, file } of this.snapshots) file.write(() => document.state).catch(() => {});
  }

  /** Reads every topic's stream from where this hub is, and hands new entries to the mirrors. */
  private async follow(): Promise<void> {
    const logs = [...this.documents.keys()];
    while (!this.closed) {
      try {
        const positions = logs.map((log) => (this.documents.get(log) as SharedDocument<unknown>).position);
        const reply = (await this.tail.xread("BLOCK", TAIL_BLOCK_MS, "STREAMS", ...logs, ...positions)) as StreamReply;
        if (reply) {
          for (const [log, entries] of reply) this.documents.get(log)?.receive(entries);
        } else {
          // Quiet: a good moment to notice a topic that started over under another epoch.
          for (const document of this.documents.values()) await document.checkEpoch();
        }
      } catch (error) {
        if (this.closed) return;
        this.options.logger.debug(`redis tail: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}

/** A Redis URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "the configured URL";
  }
}
