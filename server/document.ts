// A versioned JSON document: every mutation yields the next version and the RFC 6902 ops from
// the previous state, which persistence and the broadcaster both consume. The one way to change
// state in the hub.
import { randomBytes } from "node:crypto";
import { access, readFile, rename } from "node:fs/promises";
import type * as z from "zod";
import type { JsonPatchOperation } from "../shared/schemas.ts";
import type { DurableJsonFile } from "./durable-file.ts";
import { SwitchboardError } from "./errors.ts";
import { diff } from "./json-diff.ts";
import type { Logger } from "./log.ts";

export interface Change {
  epoch: string;
  version: number;
  ops: JsonPatchOperation[];
}

export type ChangeListener<T> = (change: Change, state: T) => void;

// A change's ops as JSON text, made once: the history counts its bytes, the broadcaster sends it,
// a cluster commits it. Ops arrays are never changed once made.
const opsTexts = new WeakMap<JsonPatchOperation[], string>();

/** `ops` as JSON text, made the first time it is asked for. */
export function opsJson(ops: JsonPatchOperation[]): string {
  let text = opsTexts.get(ops);
  if (text === undefined) {
    text = JSON.stringify(ops);
    opsTexts.set(ops, text);
  }
  return text;
}

/** Ops read from JSON text, which is kept as their text (see opsJson). */
export function opsFromJson(text: string): JsonPatchOperation[] {
  const ops = JSON.parse(text) as JsonPatchOperation[];
  opsTexts.set(ops, text);
  return ops;
}

/** What a subscriber-facing consumer (the broadcaster) needs of a document. */
export interface DocumentFeed {
  readonly epoch: string;
  readonly version: number;
  readonly state: unknown;
  readonly file: DurableJsonFile | undefined;
  subscribe(listener: (change: Change) => void): () => void;
  changesSince(epoch: string, version: number): Change[] | null;
  /**
   * Called when the document starts over under a new epoch (a shared store lost its data):
   * subscribers need a fresh snapshot, not patches. An in-memory document never does.
   */
  onReset?(listener: () => void): () => void;
}

export interface VersionedDocumentOptions<T> {
  initial: T;
  /** How many recent changes are kept for resuming subscribers. */
  historyLimit?: number;
  /** At most this many bytes of them (their ops as JSON); the oldest go first. */
  historyLimitBytes?: number;
  /** When given, every change is written to it and acknowledged only once durable. */
  file?: DurableJsonFile;
}

/** A fresh, unguessable epoch name. */
export const newEpoch = (): string => randomBytes(6).toString("base64url");

export class VersionedDocument<T> implements DocumentFeed {
  /** Names this lifetime of the version sequence; new on every start. */
  epoch: string = newEpoch();
  protected current: T;
  protected versionNumber = 0;
  protected readonly history: Change[] = [];
  protected readonly historyLimit: number;
  protected readonly historyLimitBytes: number;
  /** The bytes of each change in `history` (same order), and their sum. */
  private readonly historySizes: number[] = [];
  private historyBytes = 0;
  protected readonly listeners = new Set<ChangeListener<T>>();
  /** The newest version known to be on disk (the loaded state, version 0, needs no write). */
  private durableVersion = 0;
  readonly file: DurableJsonFile | undefined;

  constructor(options: VersionedDocumentOptions<T>) {
    this.current = options.initial;
    this.historyLimit = options.historyLimit ?? 1000;
    this.historyLimitBytes = options.historyLimitBytes ?? 32 * 1024 * 1024;
    this.file = options.file;
  }

  /** The current state. Treat it as immutable: mutations replace objects, never edit them. */
  get state(): T {
    return this.current;
  }

  get version(): number {
    return this.versionNumber;
  }

  /**
   * Replaces the state with `next(state)` (built by copying what changes and sharing the rest),
   * notifies listeners at once, and resolves when the change is durable. A mutation that
   * changes nothing produces no version and no write (unless the last write failed).
   */
  async mutate(next: (state: T) => T): Promise<Change | null> {
    const change = this.apply(next);
    // A no-op is acknowledged only when the state it confirms is durable: after a failed write,
    // a retried request that changes nothing new must still wait for (or fail with) the disk.
    await this.whenDurable();
    return change;
  }

  /** Resolves once the current version is on disk, writing only when it is not there yet. */
  async whenDurable(): Promise<void> {
    if (this.file && (this.durableVersion < this.versionNumber || this.file.lastError)) await this.persist();
  }

  /** The synchronous half of `mutate`: apply and notify, without waiting for the disk. */
  apply(next: (state: T) => T): Change | null {
    const before = this.current;
    const after = next(before);
    const ops = diff(before, after);
    if (ops.length === 0) return null;
    this.current = after;
    this.versionNumber++;
    const change: Change = { epoch: this.epoch, version: this.versionNumber, ops };
    this.remember(change);
    for (const listener of this.listeners) listener(change, after);
    return change;
  }

  /** Writes the current state and resolves once it is durable; a no-op without a file. */
  async persist(): Promise<void> {
    if (!this.file) return;
    // The write that answers this request serializes the state no earlier than now, so at least
    // this version is on disk when it resolves.
    const version = this.versionNumber;
    try {
      await this.file.write(() => this.current);
      this.durableVersion = Math.max(this.durableVersion, version);
    } catch (error) {
      throw new SwitchboardError(
        "persistence_failed",
        `the change is applied in memory but could not be saved to ${this.file.path}: ${(error as Error).message}. ` +
          "Check that the data directory is writable and has free space; the hub keeps retrying and saves it once the disk recovers.",
      );
    }
  }

  /**
   * Keeps a change for resuming subscribers, dropping the oldest while more than `historyLimit`
   * changes or `historyLimitBytes` bytes are kept (a client resuming from before gets a snapshot).
   */
  protected remember(change: Change): void {
    const size = Buffer.byteLength(opsJson(change.ops));
    this.history.push(change);
    this.historySizes.push(size);
    this.historyBytes += size;
    while (
      this.history.length > 0 &&
      (this.history.length > this.historyLimit || this.historyBytes > this.historyLimitBytes)
    ) {
      this.history.shift();
      this.historyBytes -= this.historySizes.shift() ?? 0;
    }
  }

  /** Forgets every kept change (a document that starts over). */
  protected forgetHistory(): void {
    this.history.length = 0;
    this.historySizes.length = 0;
    this.historyBytes = 0;
  }

  /** Bytes of the changes kept for resuming subscribers. */
  get historySize(): number {
    return this.historyBytes;
  }

  subscribe(listener: ChangeListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The changes after `version` in this epoch, or null when they cannot be given
   * (another epoch, a version from the future, or history already dropped).
   */
  changesSince(epoch: string, version: number): Change[] | null {
    if (epoch !== this.epoch || version > this.versionNumber || version < 0) return null;
    if (version === this.versionNumber) return [];
    const first = this.history[0];
    if (!first || first.version > version + 1) return null;
    return this.history.slice(version + 1 - first.version);
  }
}

export interface LoadResult<T> {
  state: T;
  /** Where a corrupt file was moved aside, when it was. */
  movedAside: string | null;
}

/**
 * Reads a document file. Missing → `empty()`. Unreadable JSON or a schema mismatch → the file is
 * moved aside as `<name>.corrupt-<timestamp>` (never overwritten in place) and `empty()` is used.
 */
export async function loadDocumentFile<S extends z.ZodType>(
  path: string,
  schema: S,
  empty: () => z.infer<S>,
  options: { logger: Logger; now: () => number },
): Promise<LoadResult<z.infer<S>>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { state: empty(), movedAside: null };
    throw error;
  }
  let problem: string;
  try {
    // Read once per start: no code generated for it (zod's JIT pays off only for schemas parsed often).
    const parsed = schema.safeParse(JSON.parse(text), { jitless: true });
    if (parsed.success) return { state: parsed.data, movedAside: null };
    problem = `it does not match the document schema (${parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "root"}: ${i.message}`)
      .join("; ")})`;
  } catch (error) {
    problem = `it is not valid JSON (${(error as Error).message})`;
  }
  const stamp = new Date(options.now()).toISOString().replace(/[:.]/g, "-");
  // rename() replaces its target: a second bad file in the same millisecond gets its own name.
  let aside = `${path}.corrupt-${stamp}`;
  for (let n = 1; await exists(aside); n++) aside = `${path}.corrupt-${stamp}-${n}`;
  await rename(path, aside);
  // V8 quotes the bad text in JSON errors, newlines included; a log entry stays one line.
  const reason = problem.replace(/\s*\n\s*/g, " ");
  options.logger.warn(`${path} could not be loaded: ${reason}. Moved it to ${aside} and started empty.`);
  return { state: empty(), movedAside: aside };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
