// The health document (`data/backend-health.json`): each backend's status, why, its pings and
// its pre-warmed sessions.
import * as z from "zod";
import { backendNameSchema, isoTimestampSchema, LIMITS } from "./task.ts";

export const HEALTH_STATUSES = ["warm", "healthy", "cold", "dead", "limited"] as const;
export const healthStatusSchema = z.enum(HEALTH_STATUSES);
export type HealthStatus = z.infer<typeof healthStatusSchema>;

export const warmSessionSchema = z.strictObject({
  id: z.string().max(100),
  state: z.enum(["starting", "ready", "busy"]),
  startedAt: isoTimestampSchema,
  readyAt: isoTimestampSchema.nullable(),
  expiresAt: isoTimestampSchema.nullable(),
  pid: z.number().int().nullable(),
});
export type WarmSession = z.infer<typeof warmSessionSchema>;

export const backendHealthSchema = z.strictObject({
  kind: z.string().max(LIMITS.backendName),
  status: healthStatusSchema,
  reason: z.string().max(LIMITS.error).nullable(),
  version: z.string().max(200).nullable(),
  authMethod: z.string().max(200).nullable(),
  latencyMs: z.number().min(0).nullable(),
  lastPing: isoTimestampSchema.nullable(),
  lastSuccess: isoTimestampSchema.nullable(),
  consecutiveFailures: z.number().int().min(0),
  nextPingAt: isoTimestampSchema.nullable(),
  loadedModels: z.array(z.string().max(200)).max(50),
  latencyHistory: z.array(z.strictObject({ at: isoTimestampSchema, ms: z.number().min(0) })).max(50),
  prewarmed: z.array(warmSessionSchema).max(20),
  /** A subscription window used up: `limited` until then (files from before limits lack these). */
  limitedUntil: isoTimestampSchema.nullable().optional(),
  /** Which window, in words: "the five-hour limit is used up". */
  limitReason: z.string().max(LIMITS.error).nullable().optional(),
  /** A window nearly used up (claude's `allowed_warning`): still usable. */
  limitWarning: z
    .strictObject({
      window: z.string().max(100).nullable(),
      utilization: z.number().min(0).nullable(),
      resetsAt: isoTimestampSchema.nullable(),
      at: isoTimestampSchema,
    })
    .nullable()
    .optional(),
});
export type BackendHealth = z.infer<typeof backendHealthSchema>;

export const healthSchema = z.strictObject({
  lastUpdated: isoTimestampSchema,
  backends: z.record(backendNameSchema, backendHealthSchema),
  /** True while the periodic pings are paused (`stopWarmup`, POST /api/warmup/stop); a restart keeps it. */
  pingsPaused: z.boolean().optional(),
});
export type Health = z.infer<typeof healthSchema>;
