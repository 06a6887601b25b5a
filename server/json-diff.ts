// RFC 6902 diff between two JSON values. Unchanged subtrees shared by reference cost nothing;
// arrays of objects keyed by `taskId` become removes and adds of whole items, so moving a
// task from `activeTasks` to `recentCompleted` is a handful of ops, not a rewrite of the lists.
import type { JsonPatchOperation } from "../shared/schemas.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const IDENTITY_KEY = "taskId";

export function escapePointer(segment: string): string {
  // Nearly every key needs no escaping; skip the two replacements for those (a hot path).
  if (!segment.includes("~") && !segment.includes("/")) return segment;
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

export function diff(before: unknown, after: unknown, path = ""): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  diffValue(before as Json, after as Json, path, ops);
  return ops;
}

function diffValue(before: Json, after: Json, path: string, ops: JsonPatchOperation[]): void {
  if (before === after) return;
  if (Array.isArray(before) && Array.isArray(after)) {
    diffArray(before, after, path, ops);
  } else if (isObject(before) && isObject(after)) {
    diffObject(before, after, path, ops);
  } else if (!deepEqual(before, after)) {
    ops.push({ op: "replace", path, value: after });
  }
}

function diffObject(
  before: { [k: string]: Json },
  after: { [k: string]: Json },
  path: string,
  ops: JsonPatchOperation[],
) {
  for (const key of Object.keys(before)) {
    if (before[key] !== undefined && (!Object.hasOwn(after, key) || after[key] === undefined)) {
      ops.push({ op: "remove", path: `${path}/${escapePointer(key)}` });
    }
  }
  for (const key of Object.keys(after)) {
    const value = after[key];
    // Unchanged values (shared by reference) are the common case: skip them before building a path.
    if (value === undefined || value === before[key]) continue;
    const child = `${path}/${escapePointer(key)}`;
    if (!Object.hasOwn(before, key) || before[key] === undefined) ops.push({ op: "add", path: child, value });
    else diffValue(before[key] as Json, value, child, ops);
  }
}

function diffArray(before: Json[], after: Json[], path: string, ops: JsonPatchOperation[]): void {
  if (before.length === after.length && samePositions(before, after)) {
    // The usual change, an item edited in place: pair items by position, no identity tables.
    for (let i = 0; i < after.length; i++) {
      if (before[i] !== after[i]) diffValue(before[i] as Json, after[i] as Json, `${path}/${i}`, ops);
    }
    return;
  }
  const beforeIds = identities(before);
  const afterIds = identities(after);
  if (beforeIds && afterIds) diffKeyedArray(before, after, beforeIds, afterIds, path, ops);
  else diffPositionalArray(before, after, path, ops);
}

/**
 * Items matched by identity along their longest common subsequence; the rest removed or added.
 * The common prefix and suffix are matched first, so the usual changes (append a task, finish one,
 * update one) cost linear time; only the reordered middle goes through the quadratic table.
 */
function diffKeyedArray(
  before: Json[],
  after: Json[],
  beforeIds: string[],
  afterIds: string[],
  path: string,
  ops: JsonPatchOperation[],
): void {
  const kept = matchIdentities(beforeIds, afterIds);
  if (!kept) {
    diffPositionalArray(before, after, path, ops);
    return;
  }
  // Removes from the end so that earlier indexes stay valid.
  for (let i = before.length - 1; i >= 0; i--) {
    if (!kept.has(beforeIds[i] as string)) ops.push({ op: "remove", path: `${path}/${i}` });
  }
  // The working array is now exactly the kept items; walking `after` in order, each index either
  // already holds the matching kept item or receives an add.
  const beforeById = new Map(beforeIds.map((id, i) => [id, before[i] as Json]));
  for (let j = 0; j < after.length; j++) {
    const id = afterIds[j] as string;
    if (kept.has(id)) diffValue(beforeById.get(id) as Json, after[j] as Json, `${path}/${j}`, ops);
    else ops.push({ op: "add", path: `${path}/${j}`, value: after[j] as Json });
  }
}

/** Above this many table cells a reordered middle is diffed by position instead (still correct). */
const MAX_TABLE_CELLS = 1_000_000;

/** The identities kept in order from `a` to `b`, or null when the reordered middle is too large. */
function matchIdentities(a: string[], b: string[]): Set<string> | null {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  const middleA = a.slice(prefix, a.length - suffix);
  const middleB = b.slice(prefix, b.length - suffix);
  if ((middleA.length + 1) * (middleB.length + 1) > MAX_TABLE_CELLS) return null;
  return new Set([...a.slice(0, prefix), ...longestCommonSubsequence(middleA, middleB), ...a.slice(a.length - suffix)]);
}

function diffPositionalArray(before: Json[], after: Json[], path: string, ops: JsonPatchOperation[]): void {
  const common = Math.min(before.length, after.length);
  for (let i = 0; i < common; i++) diffValue(before[i] as Json, after[i] as Json, `${path}/${i}`, ops);
  for (let i = before.length - 1; i >= common; i--) ops.push({ op: "remove", path: `${path}/${i}` });
  for (let i = common; i < after.length; i++) ops.push({ op: "add", path: `${path}/${i}`, value: after[i] as Json });
}

/**
 * True when every position holds the same value or the same keyed item (same identity) on both
 * sides: then matching by identity and matching by position agree.
 */
function samePositions(before: Json[], after: Json[]): boolean {
  for (let i = 0; i < before.length; i++) {
    const a = before[i];
    const b = after[i];
    if (a === b) continue;
    if (!isObject(a) || !isObject(b)) return false;
    const id = a[IDENTITY_KEY];
    if (typeof id !== "string" || id !== b[IDENTITY_KEY]) return false;
  }
  return true;
}

/** The identity of every item, or null when the array is not a list of distinct keyed objects. */
function identities(items: Json[]): string[] | null {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (!isObject(item)) return null;
    const id = item[IDENTITY_KEY];
    if (typeof id !== "string" || seen.has(id)) return null;
    seen.add(id);
    ids.push(id);
  }
  return ids;
}

function longestCommonSubsequence(a: string[], b: string[]): string[] {
  // Only the reordered middle of two lists arrives here, bounded by MAX_TABLE_CELLS.
  const rows = a.length + 1;
  const cols = b.length + 1;
  const table = new Uint32Array(rows * cols);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * cols + j] =
        a[i] === b[j]
          ? (table[(i + 1) * cols + j + 1] as number) + 1
          : Math.max(table[(i + 1) * cols + j] as number, table[i * cols + j + 1] as number);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i] as string);
      i++;
      j++;
    } else if ((table[(i + 1) * cols + j] as number) >= (table[i * cols + j + 1] as number)) i++;
    else j++;
  }
  return out;
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keysA = Object.keys(a).filter((k) => a[k] !== undefined);
    const keysB = Object.keys(b).filter((k) => b[k] !== undefined);
    return keysA.length === keysB.length && keysA.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
