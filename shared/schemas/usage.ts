// The usage document (`data/usage.json`): runs, tokens and cost per backend, per day and in total.
import * as z from "zod";
import { backendNameSchema, isoTimestampSchema } from "./task.ts";

/** Runs, tokens and cost of one backend over some period. */
export const usageCountsSchema = z.strictObject({
  runs: z.number().int().min(0),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  cacheReadTokens: z.number().int().min(0),
  costUsd: z.number().min(0),
  turns: z.number().int().min(0),
});
export type UsageCounts = z.infer<typeof usageCountsSchema>;

export const dayKeySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a day as YYYY-MM-DD");

/** `data/usage.json`: per backend, per day (the last 30, in the hub's time zone) and in total. */
export const usageDocumentSchema = z.strictObject({
  lastUpdated: isoTimestampSchema,
  /** The IANA time zone the day keys are in. */
  timeZone: z.string().max(100),
  backends: z.record(
    backendNameSchema,
    z.strictObject({
      total: usageCountsSchema,
      days: z.record(dayKeySchema, usageCountsSchema),
    }),
  ),
  total: usageCountsSchema,
});
export type UsageDocument = z.infer<typeof usageDocumentSchema>;
