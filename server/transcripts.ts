// Every answer a task's steps and follow-ups gave, one JSON line each, in
// `data/transcripts/<taskId>.jsonl`: kept out of the context document (which stays small),
// bounded, and written whole through a durable file, so a reader never sees half a transcript.
import { readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type TranscriptEntry, transcriptEntrySchema } from "../shared/schemas.ts";
import { type DurableFileOptions, DurableJsonFile } from "./durable-file.ts";

/** Entries a transcript keeps; older ones are dropped first (a task holds at most 100 steps). */
export const MAX_TRANSCRIPT_ENTRIES = 200;
/** The longest answer kept whole; longer ones are cut and say so. */
export const MAX_ANSWER_CHARS = 100_000;
/** Transcript files kept in the directory; the oldest beyond it are removed. */
export const MAX_TRANSCRIPT_FILES = 500;
/** Transcripts held in memory at once (the rest are read from disk when asked for). */
const CACHED_TRANSCRIPTS = 50;

export interface TranscriptsOptions {
  dir: string;
  file?: Pick<DurableFileOptions, "fsync" | "retryDelayMs" | "onWrite">;
}

export type Transcripts = ReturnType<typeof createTranscripts>;

/** JSON lines: one entry a line, so a person can `tail` the file. */
const asJsonLines = (entries: unknown): string =>
  (entries as TranscriptEntry[]).map((entry) => `${JSON.stringify(entry)}\n`).join("");

/** The entries a file holds; a line that is not an entry (hand-edited, foreign) is skipped. */
export function parseTranscript(text: string): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const parsed = transcriptEntrySchema.safeParse(JSON.parse(line));
      if (parsed.success) entries.push(parsed.data);
    } catch {
      // not JSON: skipped
    }
  }
  return entries;
}

/** An entry as kept: its answer cut to the limit. */
export function boundedEntry(entry: TranscriptEntry): TranscriptEntry {
  if (entry.answer.length <= MAX_ANSWER_CHARS) return entry;
  const note = `\n\n[… cut: the answer was ${entry.answer.length} characters; the transcript keeps ${MAX_ANSWER_CHARS}]`;
  return { ...entry, answer: entry.answer.slice(0, MAX_ANSWER_CHARS - note.length) + note };
}

/** The latest answer for each step, in step order: what the output document shows. */
export function answersByStep(entries: TranscriptEntry[]): TranscriptEntry[] {
  const latest = new Map<number, TranscriptEntry>();
  for (const entry of entries) latest.set(entry.step, entry);
  return [...latest.values()].sort((a, b) => a.step - b.step);
}

export function createTranscripts(options: TranscriptsOptions) {
  interface Held {
    entries: TranscriptEntry[];
    file: DurableJsonFile;
  }
  // Insertion order is recency: a transcript read or written moves to the end.
  const held = new Map<string, Held>();
  const loading = new Map<string, Promise<Held>>();
  const pathOf = (taskId: string) => join(options.dir, `${taskId}.jsonl`);

  async function readEntries(taskId: string): Promise<TranscriptEntry[] | null> {
    try {
      return parseTranscript(await readFile(pathOf(taskId), "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async function hold(taskId: string): Promise<Held> {
    const cached = held.get(taskId);
    if (cached) {
      held.delete(taskId);
      held.set(taskId, cached);
      return cached;
    }
    let pending = loading.get(taskId);
    if (!pending) {
      pending = (async () => {
        const entries = await readEntries(taskId);
        if (entries === null) await pruneFiles();
        const made: Held = {
          entries: entries ?? [],
          file: new DurableJsonFile(pathOf(taskId), { ...options.file, serialize: asJsonLines }),
        };
        held.set(taskId, made);
        while (held.size > CACHED_TRANSCRIPTS) {
          const [oldest, gone] = held.entries().next().value as [string, Held];
          held.delete(oldest);
          void gone.file.close(); // its last write finishes first
        }
        return made;
      })().finally(() => loading.delete(taskId));
      loading.set(taskId, pending);
    }
    return pending;
  }

  /** Removes the oldest transcript files beyond the limit (a new one is about to be made). */
  async function pruneFiles(): Promise<void> {
    const names = (await readdir(options.dir).catch(() => [] as string[])).filter((n) => n.endsWith(".jsonl"));
    if (names.length < MAX_TRANSCRIPT_FILES) return;
    const dated = await Promise.all(
      names.map(async (name) => ({ name, at: (await stat(join(options.dir, name)).catch(() => null))?.mtimeMs ?? 0 })),
    );
    dated.sort((a, b) => a.at - b.at);
    for (const { name } of dated.slice(0, names.length - MAX_TRANSCRIPT_FILES + 1)) {
      if (held.has(name.slice(0, -".jsonl".length))) continue;
      await unlink(join(options.dir, name)).catch(() => undefined);
    }
  }

  /** The task's entries, oldest first; null when it has no transcript. */
  async function read(taskId: string): Promise<TranscriptEntry[] | null> {
    const cached = held.get(taskId);
    if (cached) return cached.entries;
    return readEntries(taskId);
  }

  /** Adds an answer; resolves once the transcript holding it is on disk. */
  async function append(taskId: string, entry: TranscriptEntry): Promise<void> {
    const transcript = await hold(taskId);
    transcript.entries = [...transcript.entries, boundedEntry(entry)].slice(-MAX_TRANSCRIPT_ENTRIES);
    const snapshot = transcript.entries;
    await transcript.file.write(() => snapshot);
  }

  /** Flushes every transcript being written. */
  async function close(): Promise<void> {
    await Promise.all([...held.values()].map((h) => h.file.close()));
  }

  return { read, append, close, path: pathOf };
}
