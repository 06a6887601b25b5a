// Command-line argument converters: text as typed → the values the hub takes (ETA, route step,
// whole numbers, the task fields `task add` and `task update` share). Each throws a UsageError
// that says what was wrong and gives an example.
import type { ACTIVE_STATUSES as SCHEMA_ACTIVE_STATUSES } from "../../shared/schemas.ts";
import { type OptionValues, UsageError } from "./command.ts";

// The schemas' ACTIVE_STATUSES spelled out, so that the CLI never loads zod (a third of its
// start-up); `satisfies` keeps the list complete when a status is added there.
const ACTIVE_STATUSES = Object.keys({
  running: true,
  queued: true,
  "pending-approval": true,
} satisfies Record<(typeof SCHEMA_ACTIVE_STATUSES)[number], true>);

export const STATUS_CHOICES = ACTIVE_STATUSES.join(", ");

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ETA as given on the command line: an ISO time, a duration from now (12m), or "none". */
export function parseEta(text: string, now: number): string | null {
  if (text === "none") return null;
  const duration = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text.trim());
  if (duration)
    return new Date(now + Number(duration[1]) * (DURATION_UNITS[duration[2] as string] as number)).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)))
    return new Date(Date.parse(text)).toISOString();
  throw new UsageError(
    `--eta must be an ISO time, a duration from now like 30s, 12m or 2h, or none (got ${JSON.stringify(text)})`,
  );
}

/** A --step of `route`: "title: prompt", split at the first colon. */
export function parseStep(text: string): { title: string; prompt: string } {
  const colon = text.indexOf(":");
  const title = colon > 0 ? text.slice(0, colon).trim() : "";
  const prompt = colon > 0 ? text.slice(colon + 1).trim() : "";
  if (!title || !prompt) {
    throw new UsageError(
      `--step must be "title: prompt", like "Summarize: summarize the report" (got ${JSON.stringify(text)})`,
    );
  }
  return { title, prompt };
}

/** A whole number given to `flag`. */
export function parseInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new UsageError(`${flag} must be a whole number, like 2 (got ${JSON.stringify(text)})`);
  }
  return value;
}

/** The fields `task add` and `task update` share: --status, --progress, --eta, --output. */
export function parseTaskFields(values: OptionValues, now: number): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const { status, progress, eta, output } = values as Record<string, string | undefined>;
  if (status !== undefined) {
    if (!ACTIVE_STATUSES.includes(status)) {
      throw new UsageError(
        `--status must be one of ${STATUS_CHOICES} (got ${JSON.stringify(status)}); finish a task with "task complete"`,
      );
    }
    fields.status = status;
  }
  if (progress !== undefined) {
    const value = Number(progress);
    if (progress.trim() === "" || !(value >= 0 && value <= 1)) {
      throw new UsageError(`--progress must be a number from 0 to 1, like 0.6 (got ${JSON.stringify(progress)})`);
    }
    fields.progress = value;
  }
  if (eta !== undefined) fields.eta = parseEta(eta, now);
  if (output !== undefined) fields.outputPath = output;
  return fields;
}
