// The CLI's argument converters: what each accepts, what it makes of it, and the usage error
// (with an example) for everything else.
import { describe, expect, test } from "vitest";
import { parseEta, parseInteger, parseStep, parseTaskFields } from "../../client/cli/arguments.ts";
import { UsageError } from "../../client/cli/command.ts";

const NOW = Date.parse("2026-03-01T10:00:00.000Z");

describe("parseEta", () => {
  test.each([
    ["none", null],
    ["30s", "2026-03-01T10:00:30.000Z"],
    ["12m", "2026-03-01T10:12:00.000Z"],
    ["1.5h", "2026-03-01T11:30:00.000Z"],
    ["2d", "2026-03-03T10:00:00.000Z"],
    [" 5 m ", "2026-03-01T10:05:00.000Z"],
    ["2026-03-01T12:00:00+01:00", "2026-03-01T11:00:00.000Z"],
  ])("%j is %j", (text, eta) => {
    expect(parseEta(text, NOW)).toBe(eta);
  });

  test.each(["soon", "12", "12 minutes", "-5m", "2026-03-01", "2026-13-45T99:00:00Z", ""])(
    "%j is a usage error with an example",
    (text) => {
      expect(() => parseEta(text, NOW)).toThrow(UsageError);
      expect(() => parseEta(text, NOW)).toThrow(/--eta must be .* like 30s, 12m or 2h/);
    },
  );
});

describe("parseStep", () => {
  test.each([
    ["Summarize: summarize the report", { title: "Summarize", prompt: "summarize the report" }],
    ["Fetch:  get https://example.com/a:b ", { title: "Fetch", prompt: "get https://example.com/a:b" }],
  ])("%j splits at the first colon", (text, step) => {
    expect(parseStep(text)).toEqual(step);
  });

  test.each([":prompt only", "title only", "Title:   ", "   : x"])("%j is a usage error", (text) => {
    expect(() => parseStep(text)).toThrow(/--step must be "title: prompt"/);
  });
});

describe("parseInteger", () => {
  test.each([
    ["2", 2],
    [" 10 ", 10],
    ["0", 0],
  ])("%j is %d", (text, value) => {
    expect(parseInteger("--step", text)).toBe(value);
  });

  test.each(["2.5", "-1", "two", "", "1e3", "99999999999999999999"])("%j is a usage error naming the flag", (text) => {
    expect(() => parseInteger("--total-steps", text)).toThrow(/^--total-steps must be a whole number, like 2/);
  });
});

describe("parseTaskFields", () => {
  test("converts status, progress, ETA and output; leaves out what was not given", () => {
    expect(parseTaskFields({ status: "queued", progress: "0.6", eta: "10m", output: "out.md" }, NOW)).toEqual({
      status: "queued",
      progress: 0.6,
      eta: "2026-03-01T10:10:00.000Z",
      outputPath: "out.md",
    });
    expect(parseTaskFields({}, NOW)).toEqual({});
  });

  test.each([
    [{ status: "complete" }, /--status must be one of .*finish a task with "task complete"/],
    [{ status: "nope" }, /--status must be one of/],
    [{ progress: "1.2" }, /--progress must be a number from 0 to 1/],
    [{ progress: " " }, /--progress must be a number from 0 to 1/],
    [{ progress: "half" }, /--progress must be a number from 0 to 1/],
  ])("%j is a usage error", (values, message) => {
    expect(() => parseTaskFields(values, NOW)).toThrow(message);
  });
});
