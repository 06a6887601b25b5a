// The wire contract: zod schemas for both documents, every request body and every frame.
// Types are inferred from these schemas; this module imports nothing else of the project,
// so client code (Node and browser) can share it.
import * as z from "zod";

export const CHANNELS = ["voice", "telegram", "slack", "dashboard", "cli"] as const;
export const channelSchema = z.enum(CHANNELS);
export type Channel = z.infer<typeof channelSchema>;

export const ACTIVE_STATUSES = ["running", "queued", "pending-approval"] as const;
export const FINAL_STATUSES = ["complete", "failed"] as const;
export const activeStatusSchema = z.enum(ACTIVE_STATUSES);
export const finalStatusSchema = z.enum(FINAL_STATUSES);
export const taskStatusSchema = z.enum([...ACTIVE_STATUSES, ...FINAL_STATUSES]);
export const isFinalStatus = (status: string | undefined): status is (typeof FINAL_STATUSES)[number] =>
  status === "complete" || status === "failed";

/** Limits on every string and list that crosses a boundary. */
export const LIMITS = {
  taskId: 100,
  description: 2_000,
  title: 200,
  prompt: 20_000,
  lastUpdate: 2_000,
  path: 1_000,
  /** A task's result, as JSON text: a string or any JSON value the publisher keeps there. */
  result: 20_000,
  /** A plan, as JSON text: the router's own plan object, kept as it is. */
  plan: 2_100_000,
  error: 4_000,
  steps: 100,
  backendName: 40,
  workspaceName: 40,
  approvalId: 100,
  toolName: 200,
  /** A tool call's input as the approval server sends it (a Write's whole file). */
  toolInputBytes: 1024 * 1024,
} as const;

export const isoTimestampSchema = z.iso.datetime({ offset: true });
export const taskIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]+$/, "may hold only letters, digits and _ . : -")
  .min(1)
  .max(LIMITS.taskId);
export const backendNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, "must be lowercase letters, digits, _ or -")
  .max(LIMITS.backendName);

/** A JSON value no longer than `max` characters as JSON text. */
const boundedJson = (max: number, what: string) =>
  z.json().refine((value) => JSON.stringify(value).length <= max, {
    message: `${what} is larger than ${max} characters as JSON; keep large outputs in a file and give its outputPath`,
  });

/** A step the hub understands: a title, and what the built-in router needs; other fields are kept. */
export const planStepSchema = z.looseObject({
  title: z.string().min(1).max(LIMITS.title),
  prompt: z.string().max(LIMITS.prompt).optional(),
  requiresApproval: z.boolean().optional(),
  /** A follow-up step: the channel it was sent from. */
  from: channelSchema.optional(),
});
export type PlanStep = z.infer<typeof planStepSchema>;

/**
 * A plan is any JSON object: the publisher's own plan, kept as it is. The hub reads `steps` when
 * it is a list of steps it understands (see `planSteps`); anything else in it is only carried.
 */
export const planSchema = z.record(z.string(), z.json()).refine((plan) => JSON.stringify(plan).length <= LIMITS.plan, {
  message: `the plan is larger than ${LIMITS.plan} characters as JSON`,
});
export type Plan = z.infer<typeof planSchema>;

const understoodSteps = z.array(planStepSchema).max(LIMITS.steps);

/** The steps of a plan the hub understands, or none when `plan.steps` is missing or of another shape. */
export function planSteps(plan: Plan): PlanStep[] {
  const parsed = understoodSteps.safeParse(plan.steps);
  return parsed.success ? parsed.data : [];
}

/** Names one tool-call approval: a decision that names another (an older call) is refused. */
export const approvalIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, "may hold only letters, digits, _ and -")
  .min(1)
  .max(LIMITS.approvalId);

export const approvalSchema = z.strictObject({
  decision: z.enum(["approved", "rejected"]),
  channel: channelSchema,
  at: isoTimestampSchema,
  /** The step decided on (1-based, as `currentStep`); absent in records from before steps were bound. */
  step: z.number().int().min(0).optional(),
  /** The tool-call approval this decision answered (absent for a step's approval). */
  id: approvalIdSchema.optional(),
  /** Why, when the person said (a rejected tool call's reason goes back to Claude). */
  reason: z.string().max(LIMITS.error).optional(),
});
export type Approval = z.infer<typeof approvalSchema>;

/**
 * What a task in `pending-approval` waits on: a step of its plan (no `kind`, or `"step"`), or one
 * tool call its backend wants to make (`kind: "tool"`, with that call's `id`). Both carry a
 * `title` and a `detail`, so every channel shows them the same way.
 */
export const awaitingApprovalSchema = z.strictObject({
  kind: z.enum(["step", "tool"]).optional(),
  /** A tool approval's id: approve and reject may name it, to act on this call and no other. */
  id: approvalIdSchema.optional(),
  step: z.number().int().min(0),
  title: z.string().max(LIMITS.title),
  /** The step's prompt; for a tool call: the Bash command, a unified diff of the edit, or its input. */
  detail: z.string().max(LIMITS.prompt),
  /** The tool Claude wants to use, e.g. "Bash", "Edit". */
  tool: z.string().max(LIMITS.toolName).optional(),
  /** One line on the call, e.g. "Bash: npm test" (voice reads it). */
  summary: z.string().max(LIMITS.title).optional(),
});

/** The backend conversation a task continues: a Claude session id, a Codex thread id, an Ollama history. */
export const conversationSchema = z.strictObject({
  backend: z.string().max(LIMITS.backendName),
  id: z.string().min(1).max(200),
});
export type Conversation = z.infer<typeof conversationSchema>;
/** What a task's runs cost, summed over its steps and follow-ups (costUsd 0 where a backend reports none). */
export const usageSchema = z.strictObject({
  costUsd: z.number().min(0),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  cacheReadTokens: z.number().int().min(0).optional(),
  turns: z.number().int().min(0),
});
export type Usage = z.infer<typeof usageSchema>;

const taskFields = {
  taskId: taskIdSchema,
  description: z.string().min(1).max(LIMITS.description),
  status: taskStatusSchema,
  plan: planSchema,
  currentStep: z.number().int().min(0),
  totalSteps: z.number().int().min(0).max(LIMITS.steps),
  startedFrom: channelSchema,
  startedAt: isoTimestampSchema,
  eta: isoTimestampSchema.nullable(),
  lastUpdate: z.string().max(LIMITS.lastUpdate),
  outputPath: z.string().max(LIMITS.path).nullable(),
  // Added fields (DESIGN.md allows additions, never renames).
  progress: z.number().min(0).max(1),
  etaSource: z.enum(["publisher", "estimate"]).nullable(),
  updatedAt: isoTimestampSchema,
  completedAt: isoTimestampSchema.optional(),
  result: boundedJson(LIMITS.result, "the result").optional(),
  error: z.string().max(LIMITS.error).optional(),
  kind: z.string().max(LIMITS.backendName).nullable().optional(),
  backend: z.string().max(LIMITS.backendName).nullable().optional(),
  backendReason: z.string().max(LIMITS.lastUpdate).nullable().optional(),
  start: z.enum(["warm", "cold"]).nullable().optional(),
  /** The named workspace (config `workspaces`) the task runs in; null: the data directory's folder. */
  workspace: z.string().max(LIMITS.workspaceName).nullable().optional(),
  awaitingApproval: awaitingApprovalSchema.nullable().optional(),
  approval: approvalSchema.nullable().optional(),
  conversation: conversationSchema.nullable().optional(),
  usage: usageSchema.optional(),
};

export const taskSchema = z.strictObject(taskFields);
export type Task = z.infer<typeof taskSchema>;

/**
 * The step a waiting task waits on (1-based, as `currentStep`): the one its `awaitingApproval`
 * shows, else its current step. Channels send it with a decision; the hub refuses any other.
 */
export function waitingStep(task: Pick<Task, "awaitingApproval" | "currentStep">): number {
  return task.awaitingApproval?.step ?? task.currentStep;
}

export const channelStateSchema = z.strictObject({
  lastActive: isoTimestampSchema,
  lastTaskId: taskIdSchema.nullable(),
});
export type ChannelHistoryEntry = z.infer<typeof channelStateSchema>;

export const contextSchema = z.strictObject({
  lastUpdated: isoTimestampSchema,
  activeTasks: z.array(taskSchema),
  recentCompleted: z.array(taskSchema),
  channelHistory: z.partialRecord(channelSchema, channelStateSchema),
});
export type Context = z.infer<typeof contextSchema>;

// ---- request bodies -------------------------------------------------------------------

/** `addTask`: what a publisher says about a new task; the hub fills in the rest. */
export const newTaskSchema = z.strictObject({
  taskId: taskIdSchema.optional(),
  description: taskFields.description,
  startedFrom: channelSchema,
  status: activeStatusSchema.optional(),
  plan: planSchema.optional(),
  currentStep: taskFields.currentStep.optional(),
  totalSteps: taskFields.totalSteps.optional(),
  eta: taskFields.eta.optional(),
  lastUpdate: taskFields.lastUpdate.optional(),
  outputPath: taskFields.outputPath.optional(),
  progress: taskFields.progress.optional(),
  kind: taskFields.kind,
  backend: taskFields.backend,
  backendReason: taskFields.backendReason,
  workspace: taskFields.workspace,
});
export type NewTask = z.infer<typeof newTaskSchema>;

/**
 * `updateTask`: a partial task. A final status (`complete`, `failed`) finishes the task as
 * `completeTask` does, and may carry its `result` and `error`.
 */
export const taskUpdateSchema = z
  .strictObject({
    status: taskStatusSchema.optional(),
    result: taskFields.result,
    error: taskFields.error,
    description: taskFields.description.optional(),
    plan: planSchema.optional(),
    currentStep: taskFields.currentStep.optional(),
    totalSteps: taskFields.totalSteps.optional(),
    eta: taskFields.eta.optional(),
    lastUpdate: taskFields.lastUpdate.optional(),
    outputPath: taskFields.outputPath.optional(),
    progress: taskFields.progress.optional(),
    kind: taskFields.kind,
    backend: taskFields.backend,
    backendReason: taskFields.backendReason,
    start: taskFields.start,
    awaitingApproval: taskFields.awaitingApproval,
    approval: taskFields.approval,
    conversation: taskFields.conversation,
    usage: taskFields.usage,
  })
  .refine((u) => Object.keys(u).length > 0, { message: "the update is empty: give at least one field to change" })
  .refine((u) => (u.result === undefined && u.error === undefined) || isFinalStatus(u.status), {
    message: 'result and error finish a task: send them with status "complete" or "failed" (or use completeTask)',
  });
export type TaskUpdate = z.infer<typeof taskUpdateSchema>;

export const completionSchema = z.strictObject({
  status: finalStatusSchema.optional(),
  result: taskFields.result,
  error: taskFields.error,
  outputPath: taskFields.outputPath.optional(),
});
export type Completion = z.infer<typeof completionSchema>;

const COMPLETION_FIELDS = new Set(["status", "result", "error", "outputPath"]);

/**
 * What `completeTask(taskId, result)` was given, as a completion: nothing, or an object made only
 * of the completion's fields (the REST body), is read as it is; any other JSON value (the
 * publisher's own result object, a string, a list) is the task's result, kept as it is.
 */
export function completionOf(value: unknown): unknown {
  if (value === undefined || value === null) return {};
  const isPlainObject = typeof value === "object" && !Array.isArray(value);
  if (isPlainObject && Object.keys(value).every((key) => COMPLETION_FIELDS.has(key))) return value;
  return { result: value };
}

export const channelActiveSchema = z.strictObject({
  taskId: taskIdSchema.nullable().optional(),
});

// ---- notifications --------------------------------------------------------------------

/** What a notifier (config `notify`) can be run for: a task finishing, failing or waiting, a backend limited. */
export const NOTIFY_EVENTS = ["complete", "failed", "pending-approval", "limited"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

// ---- health document ------------------------------------------------------------------

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

// ---- usage document -------------------------------------------------------------------

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

// ---- router intake --------------------------------------------------------------------

export const routeRequestSchema = z.strictObject({
  description: taskFields.description,
  startedFrom: channelSchema,
  steps: z
    .array(
      z.strictObject({
        title: z.string().min(1).max(LIMITS.title),
        prompt: z.string().min(1).max(LIMITS.prompt),
        requiresApproval: z.boolean().optional(),
      }),
    )
    .min(1)
    .max(LIMITS.steps)
    .optional(),
  backend: backendNameSchema.optional(),
  kind: z.string().max(LIMITS.backendName).optional(),
  outputPath: z.string().min(1).max(LIMITS.path).optional(),
  /** A configured workspace's name (GET /api/workspaces), never a path. */
  workspace: z.string().min(1).max(LIMITS.path).optional(),
});
export type RouteRequest = z.infer<typeof routeRequestSchema>;

/** `POST /api/context/tasks/:taskId/messages`: a follow-up in the task's conversation. */
export const followUpRequestSchema = z.strictObject({
  text: z
    .string({ error: "must be the text of the follow-up" })
    .trim()
    .min(1, "must not be empty: say what the task should do next")
    .max(LIMITS.prompt, `must be at most ${LIMITS.prompt} characters; send a shorter message`),
  channel: channelSchema,
});

/** One answer in a task's transcript (`data/transcripts/<taskId>.jsonl`, one entry a line). */
export const transcriptEntrySchema = z.strictObject({
  /** The plan step it answers, 1-based. */
  step: z.number().int().min(1),
  title: z.string().max(LIMITS.title),
  /** What the backend was told: a new conversation's first turn carries the task's description and plan. */
  prompt: z.string(),
  answer: z.string(),
  backend: z.string().max(LIMITS.backendName),
  conversation: conversationSchema.nullable(),
  /** The channel a follow-up came from; null for the task's planned steps. */
  from: channelSchema.nullable(),
  at: isoTimestampSchema,
});
export type TranscriptEntry = z.infer<typeof transcriptEntrySchema>;

/** `GET /api/context/tasks/:taskId/transcript`. */
export const transcriptSchema = z.strictObject({
  taskId: taskIdSchema,
  description: z.string(),
  entries: z.array(transcriptEntrySchema),
});
export type Transcript = z.infer<typeof transcriptSchema>;

/** `202` to a follow-up: the task and the number of the step it became. */
export const followUpAcceptedSchema = z.strictObject({ taskId: taskIdSchema, step: z.number().int().min(1) });
export type FollowUpAccepted = z.infer<typeof followUpAcceptedSchema>;

export const actionRequestSchema = z.strictObject({
  channel: channelSchema.optional(),
  reason: z.string().max(LIMITS.error).optional(),
  /**
   * The step the person saw waiting (1-based, as `currentStep`); a decision on any other step is
   * refused (409). Optional for curl; every channel sends it.
   */
  step: z.number().int().min(0).max(LIMITS.steps).optional(),
  /** Acts only if the task still waits on this tool-call approval (409 otherwise). */
  approvalId: approvalIdSchema.optional(),
});

/** What the approval MCP server sends for one tool call Claude wants to make. */
export const toolApprovalRequestSchema = z.strictObject({
  /** The Claude process it serves (from its MCP config). */
  run: z.string().regex(/^[a-f0-9]{32}$/, "must be the run id from the approval server's config"),
  tool_name: z.string().min(1).max(LIMITS.toolName),
  input: z.record(z.string(), z.unknown()),
  tool_use_id: z.string().max(LIMITS.approvalId).optional(),
});
export type ToolApprovalRequest = z.infer<typeof toolApprovalRequestSchema>;

/** Claude's permission-prompt answer (sdk-tools: PermissionResult): allow, possibly with changed input, or deny. */
export type ToolDecisionAnswer =
  | { behavior: "allow"; updatedInput: Record<string, unknown> }
  | { behavior: "deny"; message: string };

// ---- WebSocket frames -----------------------------------------------------------------

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
