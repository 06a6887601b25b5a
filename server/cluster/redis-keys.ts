// Key names in Redis. Each topic's keys share one hash tag (`{context}`), so a Redis Cluster keeps a
// document, its version and its history in one slot and one Lua script may touch them all.

export interface TopicKeys {
  /** The document as JSON. */
  doc: string;
  /** A hash: `epoch`, `version`, and the `runId` of the Redis that holds them. */
  meta: string;
  /** The patch history: a stream whose entry ids are the versions (`<version>-0`). */
  log: string;
  /** Prefix of the idempotency keys of recent commits. */
  idempotency: string;
}

export function topicKeys(prefix: string, topic: string): TopicKeys {
  const base = `${prefix}:{${topic}}`;
  return { doc: `${base}:doc`, meta: `${base}:meta`, log: `${base}:log`, idempotency: `${base}:idem:` };
}

/** A lease: which hub owns a piece of work (a task, the JSON file snapshots). */
export const leaseKey = (prefix: string, name: string): string => `${prefix}:lease:${name}`;

/** A stream entry id for a version, and back. */
export const entryId = (version: number): string => `${version}-0`;
export const versionOfEntry = (id: string): number => Number.parseInt(id, 10);
