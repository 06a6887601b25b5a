// The SDK's RFC 6902 applier: the examples of RFC 6902 appendix A, whole-document operations,
// and structural sharing (untouched members keep their identity).
import jsonPatch, { type Operation } from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { applyPatch, PatchError } from "../../client/json-patch.ts";
import type { JsonPatchOperation } from "../../shared/schemas.ts";

const cases: [string, unknown, JsonPatchOperation[], unknown][] = [
  ["adds an object member", { foo: "bar" }, [{ op: "add", path: "/baz", value: "qux" }], { foo: "bar", baz: "qux" }],
  [
    "adds an array element",
    { foo: ["bar", "baz"] },
    [{ op: "add", path: "/foo/1", value: "qux" }],
    { foo: ["bar", "qux", "baz"] },
  ],
  ["appends with -", { foo: [1] }, [{ op: "add", path: "/foo/-", value: 2 }], { foo: [1, 2] }],
  ["removes an object member", { baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }], { foo: "bar" }],
  [
    "removes an array element",
    { foo: ["bar", "qux", "baz"] },
    [{ op: "remove", path: "/foo/1" }],
    { foo: ["bar", "baz"] },
  ],
  [
    "replaces a value",
    { baz: "qux", foo: "bar" },
    [{ op: "replace", path: "/baz", value: "boo" }],
    { baz: "boo", foo: "bar" },
  ],
  [
    "moves a value",
    { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
    [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
    { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
  ],
  ["copies a value", { a: { b: 1 } }, [{ op: "copy", from: "/a", path: "/c" }], { a: { b: 1 }, c: { b: 1 } }],
  [
    "escapes ~ and / in keys",
    { "a/b": 1, "m~n": 2 },
    [
      { op: "replace", path: "/a~1b", value: 3 },
      { op: "remove", path: "/m~0n" },
    ],
    { "a/b": 3 },
  ],
  ["replaces the whole document", { a: 1 }, [{ op: "replace", path: "", value: { b: 2 } }], { b: 2 }],
  ["moves a member onto the whole document", { a: { b: 2 } }, [{ op: "move", from: "/a", path: "" }], { b: 2 }],
];

describe("applyPatch", () => {
  it.each(cases)("%s, as fast-json-patch does", (_name, document, ops, expected) => {
    expect(applyPatch(structuredClone(document), ops)).toEqual(expected);
    expect(jsonPatch.applyPatch(structuredClone(document), ops as Operation[]).newDocument).toEqual(expected);
  });

  it.each([
    ["replaces a member that does not exist", { a: 1 }, [{ op: "replace", path: "/b", value: 1 }]],
    ["removes past the end of an array", { a: [1] }, [{ op: "remove", path: "/a/1" }]],
    ["uses a non-numeric array index", { a: [1] }, [{ op: "add", path: "/a/x", value: 1 }]],
    ["fails a test", { a: 1 }, [{ op: "test", path: "/a", value: 2 }]],
    ["removes the whole document", { a: 1 }, [{ op: "remove", path: "" }]],
  ] as [string, unknown, JsonPatchOperation[]][])("refuses a patch that %s", (_name, document, ops) => {
    expect(() => applyPatch(document, ops)).toThrow(PatchError);
  });

  it("never mutates its input and shares every member it does not touch", () => {
    const document = {
      tasks: [
        { taskId: "a", n: 1 },
        { taskId: "b", n: 1 },
      ],
      other: { x: 1 },
    };
    const frozen = structuredClone(document);
    const next = applyPatch(document, [{ op: "replace", path: "/tasks/1/n", value: 2 }]);
    expect(document).toEqual(frozen);
    expect(next.tasks[0]).toBe(document.tasks[0]);
    expect(next.other).toBe(document.other);
    expect(next.tasks[1]).toEqual({ taskId: "b", n: 2 });
  });
});
