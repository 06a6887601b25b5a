// The error catalogue: typed errors whose codes the HTTP layer maps to the contract's statuses.
import type * as z from "zod";
import { ERROR_STATUS, type ErrorCode } from "../shared/schemas.ts";

export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "SwitchboardError";
    this.code = code;
    this.status = ERROR_STATUS[code];
  }

  toBody(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const invalidInput = (message: string) => new SwitchboardError("invalid_input", message);
export const notFound = (message: string) => new SwitchboardError("not_found", message);
export const conflict = (message: string) => new SwitchboardError("conflict", message);
/** 503 for new work while the hub stops: `what` (the task, the follow-up) is to be sent again. */
export const shuttingDown = (what: string) =>
  new SwitchboardError("unavailable", `the hub is shutting down; send ${what} again once it is back`);

/** One line per problem, naming the field: "status: must be one of running, queued (got "done")". */
export function describeZodError(error: z.ZodError, root = ""): string {
  return error.issues
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join(".");
      const got = "input" in issue && issue.input !== undefined ? ` (got ${preview(issue.input)})` : "";
      if (issue.code === "unrecognized_keys") {
        const where = path ? ` in ${path}` : "";
        return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}${where}`;
      }
      return `${path || "body"}: ${issue.message}${got}`;
    })
    .join("; ");
}

/** A short, safe rendering of a bad value for an error message. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Parses with a schema at a boundary; a failure becomes an `invalid_input` error. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw invalidInput(`${what}: ${describeZodError(result.error)}`);
  return result.data;
}
