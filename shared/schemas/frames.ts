// The WebSocket frames (subscribe, snapshot, patch, error) and the REST error body and codes.
import * as z from "zod";
import type { Health } from "./health.ts";
import type { Context } from "./task.ts";
import type { UsageDocument } from "./usage.ts";

export const TOPICS = ["context", "health", "usage"] as const;
export const topicSchema = z.enum(TOPICS);
export type Topic = z.infer<typeof topicSchema>;

export type JsonPatchOperation =
  | { op: "add"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "replace"; path: string; value: unknown }
  | { op: "move"; path: string; from: string }
  | { op: "copy"; path: string; from: string }
  | { op: "test"; path: string; value: unknown };

export const streamPositionSchema = z.strictObject({
  epoch: z.string().min(1).max(100),
  version: z.number().int().min(0),
});
export type StreamPosition = z.infer<typeof streamPositionSchema>;

export const clientFrameSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("subscribe"),
    topics: z.array(topicSchema).min(1).max(TOPICS.length),
    since: z.partialRecord(topicSchema, streamPositionSchema).optional(),
  }),
  z.strictObject({
    type: z.literal("unsubscribe"),
    topics: z.array(topicSchema).min(1).max(TOPICS.length),
  }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export type SnapshotFrame<T = unknown> = {
  type: "snapshot";
  topic: Topic;
  epoch: string;
  version: number;
  data: T;
};
export type PatchFrame = {
  type: "patch";
  topic: Topic;
  epoch: string;
  version: number;
  ops: JsonPatchOperation[];
};
export type ErrorFrame = { type: "error"; code: string; message: string };
export type ServerFrame = SnapshotFrame | PatchFrame | ErrorFrame;

export type TopicDocument = { context: Context; health: Health; usage: UsageDocument };

export type ErrorBody = { error: { code: string; message: string } };

/** Error codes of the contract and the HTTP status each maps to. */
export const ERROR_STATUS = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unavailable: 503,
  persistence_failed: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;
