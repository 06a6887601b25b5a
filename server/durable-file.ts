// Crash-safe JSON file with group commit: the file on disk is always a complete document, and
// a write request resolves only once a write that contains it is durable.
import { constants } from "node:fs";
import { mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface DurableFileOptions {
  /** fsync the file and its directory (off only for benchmarks that measure the difference). */
  fsync?: boolean;
  /** Called after every write attempt, successful or not. */
  onWrite?: (outcome: { ok: true; bytes: number } | { ok: false; error: Error }) => void;
  /**
   * After a failed write, how long until the latest state is written again without waiting
   * for the next change (a full or read-only disk that recovers is then caught up on its own).
   */
  retryDelayMs?: number;
  /** The file's text for a state (default: indented JSON); a transcript writes JSON lines. */
  serialize?: (state: unknown) => string;
}

type Waiter = { resolve: () => void; reject: (error: Error) => void };

export class DurableJsonFile {
  readonly path: string;
  private readonly fsync: boolean;
  private readonly onWrite: DurableFileOptions["onWrite"];
  private pending: Waiter[] = [];
  private inFlight: Promise<void> | null = null;
  private snapshot: (() => unknown) | null = null;
  private tempCounter = 0;
  private readonly retryDelayMs: number;
  private readonly serialize: (state: unknown) => string;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Counts completed writes, for benchmarks and health reports. */
  writes = 0;
  lastError: Error | null = null;

  constructor(path: string, options: DurableFileOptions = {}) {
    this.path = path;
    this.fsync = options.fsync ?? true;
    this.onWrite = options.onWrite;
    this.retryDelayMs = options.retryDelayMs ?? 2000;
    this.serialize = options.serialize ?? ((state) => `${JSON.stringify(state, null, 2)}\n`);
  }

  /**
   * Asks for the current state (read by `snapshot` when the write starts) to be made durable.
   * Requests that arrive while a write is in flight are coalesced into the next single write.
   */
  write(snapshot: () => unknown): Promise<void> {
    this.cancelRetry();
    this.snapshot = snapshot;
    const done = new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject }));
    if (!this.inFlight) this.inFlight = this.drain();
    return done;
  }

  /** Resolves once every requested write has been attempted. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => undefined);
  }

  /**
   * Removes temporary files a killed process left half-written next to this file (they are
   * never the document itself, which only ever changes by rename). Returns what was removed.
   */
  async sweepTemporaryFiles(): Promise<string[]> {
    const dir = dirname(this.path);
    const prefix = `.${basename(this.path)}.`;
    const names = await readdir(dir).catch(() => [] as string[]);
    const stale = names.filter(
      (name) => name.startsWith(prefix) && name.endsWith(".tmp") && !name.startsWith(`${prefix}${process.pid}.`),
    );
    for (const name of stale) await unlink(join(dir, name)).catch(() => undefined);
    return stale;
  }

  /** Flushes, then stops retrying a failed write (the owner is shutting down). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.cancelRetry();
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer || !this.snapshot) return;
    const snapshot = this.snapshot;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      // The outcome reaches `lastError` and `onWrite`; nobody waits on a retry.
      if (!this.closed) this.write(snapshot).catch(() => undefined);
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  private async drain(): Promise<void> {
    // Let the current burst of synchronous mutations join this write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const snapshot = this.snapshot as () => unknown;
      try {
        const bytes = await this.writeAtomically(this.serialize(snapshot()));
        this.writes++;
        this.lastError = null;
        this.onWrite?.({ ok: true, bytes });
        for (const waiter of batch) waiter.resolve();
      } catch (cause) {
        const error = cause instanceof Error ? cause : new Error(String(cause));
        this.lastError = error;
        this.onWrite?.({ ok: false, error });
        for (const waiter of batch) waiter.reject(error);
      }
    }
    this.inFlight = null;
    if (this.lastError) this.scheduleRetry();
  }

  private async writeAtomically(text: string): Promise<number> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${basename(this.path)}.${process.pid}.${this.tempCounter++}.tmp`);
    const data = Buffer.from(text, "utf8");
    const handle = await open(temp, constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY, 0o644);
    try {
      await handle.writeFile(data);
      if (this.fsync) await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    try {
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    if (this.fsync) await syncDirectory(dir);
    return data.length;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
