// Applies RFC 6902 operations without mutating the input: changed paths are copied, the rest is
// shared, so a consumer can tell which tasks changed by comparing references.
import type { JsonPatchOperation } from "../shared/schemas.ts";

export class PatchError extends Error {}

type Container = Record<string, unknown> | unknown[];

export function applyPatch<T>(document: T, ops: readonly JsonPatchOperation[]): T {
  let result: unknown = document;
  for (const op of ops) result = applyOperation(result, op);
  return result as T;
}

export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function applyOperation(document: unknown, op: JsonPatchOperation): unknown {
  const path = parsePointer(op.path);
  if (path.length === 0 && op.op !== "test") return replaceWhole(document, op);
  switch (op.op) {
    case "add":
      return update(document, path, (parent, key) => insert(parent, key, clone(op.value), true));
    case "remove":
      return update(document, path, (parent, key) => remove(parent, key));
    case "replace":
      return update(document, path, (parent, key) => {
        read(parent, key);
        return insert(parent, key, clone(op.value), false);
      });
    case "move": {
      const from = parsePointer(op.from);
      const value = get(document, from);
      const without = update(document, from, (parent, key) => remove(parent, key));
      return update(without, path, (parent, key) => insert(parent, key, value, true));
    }
    case "copy": {
      const value = clone(get(document, parsePointer(op.from)));
      return update(document, path, (parent, key) => insert(parent, key, value, true));
    }
    case "test":
      if (!jsonEqual(get(document, path), op.value)) {
        throw new PatchError(`test failed at ${op.path}`);
      }
      return document;
  }
}

/** RFC 6902 operations whose target is the whole document (path ""). */
function replaceWhole(document: unknown, op: Exclude<JsonPatchOperation, { op: "test" }>): unknown {
  switch (op.op) {
    case "add":
    case "replace":
      return clone(op.value);
    case "remove":
      throw new PatchError("cannot remove the whole document");
    case "move":
      // Removing the member and then replacing the whole document leaves just the member.
      return get(document, parsePointer(op.from));
    case "copy":
      return clone(get(document, parsePointer(op.from)));
  }
}

/** Rebuilds the containers along `path`, applying `change` to the last one. */
function update(document: unknown, path: string[], change: (parent: Container, key: string) => unknown): unknown {
  if (path.length === 0) throw new PatchError("operations on the whole document are not supported");
  const [key, ...rest] = path as [string, ...string[]];
  if (!isContainer(document)) throw new PatchError(`no container at ${key}`);
  if (rest.length === 0) return change(document, key);
  const child = read(document, key);
  const next = update(child, rest, change);
  return insert(document, key, next, false);
}

function insert(parent: Container, key: string, value: unknown, adding: boolean): Container {
  if (Array.isArray(parent)) {
    const index = key === "-" && adding ? parent.length : arrayIndex(parent, key, adding);
    const copy = parent.slice();
    if (adding) copy.splice(index, 0, value);
    else copy[index] = value;
    return copy;
  }
  return { ...parent, [key]: value };
}

function remove(parent: Container, key: string): Container {
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, key, false);
    const copy = parent.slice();
    copy.splice(index, 1);
    return copy;
  }
  if (!Object.hasOwn(parent, key)) throw new PatchError(`nothing to remove at ${key}`);
  const { [key]: _removed, ...rest } = parent;
  return rest;
}

function read(parent: Container, key: string): unknown {
  if (Array.isArray(parent)) return parent[arrayIndex(parent, key, false)];
  if (!Object.hasOwn(parent, key)) throw new PatchError(`no member ${key}`);
  return parent[key];
}

function get(document: unknown, path: string[]): unknown {
  let value = document;
  for (const key of path) {
    if (!isContainer(value)) throw new PatchError(`no container at ${key}`);
    value = read(value, key);
  }
  return value;
}

function arrayIndex(array: unknown[], key: string, adding: boolean): number {
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new PatchError(`invalid array index ${key}`);
  const index = Number(key);
  if (index > array.length || (!adding && index === array.length)) throw new PatchError(`index ${key} out of range`);
  return index;
}

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null;
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Whether two JSON values are equal: same members whatever their order, same items in order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (!isContainer(a) || !isContainer(b) || Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && jsonEqual((a as Record<string, unknown>)[key], b[key]))
  );
}
