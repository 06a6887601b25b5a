// Crash-safe JSON file with group commit: the file on disk is always a complete document, and
// a write request resolves only once a write that contains it is durable. Requests that arrive
// while a write is in flight are gathered into the next one, which starts at once — its file is
// written and fsync'd while the previous fsync is still in flight — and is renamed into place
// only after the previous one, so the file only ever moves forward.
import { close, constants, fsync, open } from "node:fs";
import { mkdir, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";

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

/**
 * Writes in flight at once: one being renamed and its directory fsync'd, the next being written
 * and fsync'd meanwhile. More would only queue behind the renames.
 */
const MAX_WRITES_IN_FLIGHT = 2;

export class DurableJsonFile {
  readonly path: string;
  private readonly dir: string;
  private readonly fsync: boolean;
  private readonly onWrite: DurableFileOptions["onWrite"];
  private pending: Waiter[] = [];
  private writesInFlight = 0;
  private startScheduled = false;
  /** Settles once the newest write started so far has been renamed into place, or has failed. */
  private lastCommit: Promise<unknown> = Promise.resolve();
  private idleWaiters: (() => void)[] = [];
  private snapshot: (() => unknown) | null = null;
  private tempCounter = 0;
  /** The directory exists (made once, and again after a failed write). */
  private dirReady = false;
  /**
   * The directory's descriptor, kept open to fsync it after each rename and reopened after a
   * failed write (a plain descriptor, which garbage collection never closes behind our back).
   */
  private dirFd: Promise<number> | null = null;
  private readonly retryDelayMs: number;
  private readonly serialize: (state: unknown) => string;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Counts completed writes, for benchmarks and health reports. */
  writes = 0;
  lastError: Error | null = null;

  constructor(path: string, options: DurableFileOptions = {}) {
    this.path = path;
    this.dir = dirname(path);
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
    this.scheduleWrite();
    return done;
  }

  /** Resolves once every requested write has been attempted. */
  async flush(): Promise<void> {
    while (this.busy) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
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
    await this.closeDirectory();
  }

  private get busy(): boolean {
    return this.startScheduled || this.writesInFlight > 0 || this.pending.length > 0;
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

  private scheduleWrite(): void {
    if (this.startScheduled || this.pending.length === 0 || this.writesInFlight >= MAX_WRITES_IN_FLIGHT) return;
    this.startScheduled = true;
    // Let the current burst of synchronous mutations join this write.
    setImmediate(() => {
      this.startScheduled = false;
      this.startWrite();
    });
  }

  private startWrite(): void {
    const batch = this.pending;
    this.pending = [];
    const snapshot = this.snapshot as () => unknown;
    this.writesInFlight++;
    const previous = this.lastCommit;
    const written = (async () => this.writeAtomically(this.serialize(snapshot()), previous))();
    this.lastCommit = written.catch(() => undefined);
    written
      .then(
        (bytes) => {
          this.writes++;
          this.lastError = null;
          this.onWrite?.({ ok: true, bytes });
          for (const waiter of batch) waiter.resolve();
        },
        (cause: unknown) => {
          const error = cause instanceof Error ? cause : new Error(String(cause));
          this.lastError = error;
          this.onWrite?.({ ok: false, error });
          for (const waiter of batch) waiter.reject(error);
        },
      )
      .finally(() => {
        this.writesInFlight--;
        this.scheduleWrite();
        if (this.busy) return;
        if (this.lastError) this.scheduleRetry();
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      });
  }

  /** Writes `text` beside the file, then (after the `previous` write's rename) renames it into place. */
  private async writeAtomically(text: string, previous: Promise<unknown>): Promise<number> {
    const temp = join(this.dir, `.${basename(this.path)}.${process.pid}.${this.tempCounter++}.tmp`);
    const data = Buffer.from(text, "utf8");
    try {
      if (!this.dirReady) {
        await mkdir(this.dir, { recursive: true });
        this.dirReady = true;
      }
      // flush: the data is fsync'd before the file is closed.
      await writeFile(temp, data, { mode: 0o644, flush: this.fsync });
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      await previous;
      await this.forgetDirectory();
      throw error;
    }
    await previous;
    try {
      await rename(temp, this.path);
      if (this.fsync) await syncFd(await this.directory());
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      await this.forgetDirectory();
      throw error;
    }
    return data.length;
  }

  private directory(): Promise<number> {
    if (!this.dirFd) {
      const opening = openFd(this.dir, constants.O_RDONLY);
      this.dirFd = opening;
      opening.catch(() => {
        if (this.dirFd === opening) this.dirFd = null;
      });
    }
    return this.dirFd;
  }

  /** After a failure the directory may have gone or been replaced: make and open it again next time. */
  private async forgetDirectory(): Promise<void> {
    this.dirReady = false;
    await this.closeDirectory();
  }

  private async closeDirectory(): Promise<void> {
    const fd = this.dirFd;
    this.dirFd = null;
    await fd?.then(closeFd).catch(() => undefined);
  }
}

const openFd = promisify(open) as (path: string, flags: number) => Promise<number>;
const syncFd = promisify(fsync);
const closeFd = promisify(close);
