// What the backends' event streams say beyond the answer, read in one place: the usage and cost
// of a run (claude's `result`, codex's `turn.completed`, Ollama's final chunk) and claude's
// `rate_limit_event`. Pure readers of parsed JSON; a field of the wrong type is left out, never
// trusted. Shapes checked against the installed CLIs (claude-code's SDK schema for
// `rate_limit_info`; codex `exec --json`).
import * as z from "zod";
import type { Usage } from "../../shared/schemas.ts";

export const RATE_LIMIT_STATUSES = ["allowed", "allowed_warning", "rejected"] as const;

// Each schema is built on its first parse (z.lazy): a hub starting up, and one that never runs a
// backend, does not pay for building them.
const count = () => z.number().int().min(0).catch(0);
const amount = () => z.number().min(0).catch(0);

const claudeResultSchema = z.lazy(() =>
  z.object({
    total_cost_usd: amount().optional(),
    num_turns: count().optional(),
    usage: z
      .object({
        input_tokens: count().optional(),
        output_tokens: count().optional(),
        cache_read_input_tokens: count().optional(),
        cache_creation_input_tokens: count().optional(),
      })
      .catch({})
      .optional(),
  }),
);

const codexTurnSchema = z.lazy(() =>
  z.object({
    type: z.literal("turn.completed"),
    usage: z.object({
      input_tokens: count().optional(),
      cached_input_tokens: count().optional(),
      output_tokens: count().optional(),
    }),
  }),
);

const ollamaFinalSchema = z.lazy(() =>
  z.object({
    done: z.literal(true),
    prompt_eval_count: count().optional(),
    eval_count: count().optional(),
  }),
);

/** claude-code's `rate_limit_info` (SDK schema), the fields the hub uses. */
const rateLimitInfoSchema = z.lazy(() =>
  z.object({
    status: z.enum(RATE_LIMIT_STATUSES),
    /** Epoch seconds. */
    resetsAt: z.number().optional().catch(undefined),
    /** "five_hour", "seven_day", "seven_day_opus", "seven_day_sonnet", "overage", … */
    rateLimitType: z.string().max(100).optional().catch(undefined),
    /** 0..1 of the window used, on warnings. */
    utilization: z.number().optional().catch(undefined),
    isUsingOverage: z.boolean().optional().catch(undefined),
  }),
);

/** Usage from claude's stream-json `result` message (success or error), or null when it holds none. */
export function claudeResultUsage(event: Record<string, unknown>): Usage | null {
  if (event.type !== "result") return null;
  const parsed = claudeResultSchema.safeParse(event);
  if (!parsed.success) return null;
  const { total_cost_usd, num_turns, usage } = parsed.data;
  if (total_cost_usd === undefined && usage === undefined && num_turns === undefined) return null;
  // Tokens written to the cache are input the model read; reads from the cache are counted apart.
  return {
    costUsd: total_cost_usd ?? 0,
    inputTokens: (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0),
    outputTokens: usage?.output_tokens ?? 0,
    cacheReadTokens: usage?.cache_read_input_tokens ?? 0,
    turns: num_turns ?? 1,
  };
}

/**
 * Usage from codex's `turn.completed` event. Codex reports no cost: a subscription run is 0 USD.
 * Its `input_tokens` include the cached ones, which are counted apart here as with claude.
 */
export function codexTurnUsage(event: Record<string, unknown>): Usage | null {
  const parsed = codexTurnSchema.safeParse(event);
  if (!parsed.success) return null;
  const { input_tokens = 0, cached_input_tokens = 0, output_tokens = 0 } = parsed.data.usage;
  return {
    costUsd: 0,
    inputTokens: Math.max(0, input_tokens - cached_input_tokens),
    outputTokens: output_tokens,
    cacheReadTokens: cached_input_tokens,
    turns: 1,
  };
}

/** Usage from Ollama's last chunk (`done: true`): prompt and generated token counts, no cost. */
export function ollamaUsage(chunk: unknown): Usage | null {
  const parsed = ollamaFinalSchema.safeParse(chunk);
  if (!parsed.success) return null;
  return {
    costUsd: 0,
    inputTokens: parsed.data.prompt_eval_count ?? 0,
    outputTokens: parsed.data.eval_count ?? 0,
    turns: 1,
  };
}

export type RateLimitInfo = z.infer<typeof rateLimitInfoSchema>;

/** The `rate_limit_info` of a claude `rate_limit_event`, or null for any other event. */
export function claudeRateLimit(event: Record<string, unknown>): RateLimitInfo | null {
  if (event.type !== "rate_limit_event") return null;
  const parsed = rateLimitInfoSchema.safeParse(event.rate_limit_info);
  return parsed.success ? parsed.data : null;
}

/** Adds one run's usage to a sum (a task's, over its steps and follow-ups). */
export function addUsage(sum: Usage | undefined, run: Usage): Usage {
  const cacheRead = (sum?.cacheReadTokens ?? 0) + (run.cacheReadTokens ?? 0);
  return {
    costUsd: roundUsd((sum?.costUsd ?? 0) + run.costUsd),
    inputTokens: (sum?.inputTokens ?? 0) + run.inputTokens,
    outputTokens: (sum?.outputTokens ?? 0) + run.outputTokens,
    ...(sum?.cacheReadTokens !== undefined || run.cacheReadTokens !== undefined ? { cacheReadTokens: cacheRead } : {}),
    turns: (sum?.turns ?? 0) + run.turns,
  };
}

/** Sums of dollars keep six decimals: floating-point dust never shows as $0.30000000000000004. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6;

// ---- the conversation's events: text, ids, the end of a turn, failures ----------------------

/** One Claude stream-json event, read. */
export type ClaudeEvent =
  /** `system/init`: the process has loaded; its conversation (session) id. */
  | { kind: "init"; sessionId: string | null }
  /** An `assistant` message's text blocks. */
  | { kind: "text"; text: string }
  /** `result`: the turn is over. `text` is the final answer when the CLI gives one. */
  | { kind: "result"; ok: boolean; text: string | null; sessionId: string | null; detail: string }
  | { kind: "other" };

const stringOr = (value: unknown, fallback: string | null): string | null =>
  typeof value === "string" && value ? value : fallback;

export function claudeEvent(event: Record<string, unknown>): ClaudeEvent {
  if (event.type === "system" && event.subtype === "init") {
    return { kind: "init", sessionId: stringOr(event.session_id, null) };
  }
  if (event.type === "assistant") {
    const message = event.message as { content?: unknown } | undefined;
    const blocks = Array.isArray(message?.content) ? message.content : [];
    const text = blocks
      .filter(
        (block): block is { type: "text"; text: string } => block?.type === "text" && typeof block.text === "string",
      )
      .map((block) => block.text)
      .join("");
    return text ? { kind: "text", text } : { kind: "other" };
  }
  if (event.type === "result") {
    const ok = event.is_error !== true && (typeof event.subtype !== "string" || event.subtype === "success");
    const text = typeof event.result === "string" ? event.result : null;
    return {
      kind: "result",
      ok,
      text,
      sessionId: stringOr(event.session_id, null),
      detail: ok ? "" : (text ?? String(event.subtype ?? "error")),
    };
  }
  return { kind: "other" };
}

/** One Codex `exec --json` event, read. */
export type CodexEvent =
  /** `thread.started`: the conversation's (thread's) id, to resume with `codex exec resume`. */
  | { kind: "thread"; threadId: string }
  /** An agent message: the latest is the answer. */
  | { kind: "message"; text: string }
  | { kind: "failure"; message: string }
  | { kind: "other" };

/**
 * Current CLIs print `{"type":"thread.started","thread_id":…}`, then
 * `{"type":"item.completed","item":{"type":"agent_message","text":…}}`; older ones
 * `{"msg":{"type":"agent_message","message":…}}`.
 */
export function codexEvent(event: Record<string, unknown>): CodexEvent {
  if (event.type === "thread.started" && typeof event.thread_id === "string" && event.thread_id) {
    return { kind: "thread", threadId: event.thread_id };
  }
  const item = event.item as { type?: unknown; text?: unknown } | undefined;
  if (event.type === "item.completed" && item?.type === "agent_message" && typeof item.text === "string") {
    return { kind: "message", text: item.text };
  }
  const msg = event.msg as { type?: unknown; message?: unknown } | undefined;
  if (msg?.type === "agent_message" && typeof msg.message === "string") return { kind: "message", text: msg.message };
  if (event.type === "turn.failed") {
    const error = event.error as { message?: unknown } | undefined;
    return { kind: "failure", message: stringOr(error?.message, "the turn failed") as string };
  }
  if (event.type === "error") return { kind: "failure", message: stringOr(event.message, "error") as string };
  return { kind: "other" };
}
