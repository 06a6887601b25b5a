// Request bodies: what a publisher, a channel or the approval server sends the hub (add, update,
// complete a task; route one; a follow-up; approve, reject, cancel), and the transcript it reads back.
import * as z from "zod";
import {
  activeStatusSchema,
  approvalIdSchema,
  backendNameSchema,
  channelSchema,
  conversationSchema,
  finalStatusSchema,
  isFinalStatus,
  isoTimestampSchema,
  LIMITS,
  planSchema,
  taskFields,
  taskIdSchema,
  taskStatusSchema,
} from "./task.ts";

// ---- request bodies -------------------------------------------------------------------
// Each is built the first time it parses (z.lazy): the hub starts without building a schema no
// request has needed yet, and a parse reports the same issues.

/** The fields a publisher may set on a task it adds or updates (each optional). */
const publishedFields = () => ({
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
});

/** `addTask`: what a publisher says about a new task; the hub fills in the rest. */
export const newTaskSchema = z.lazy(() =>
  z.strictObject({
    taskId: taskIdSchema.optional(),
    description: taskFields.description,
    startedFrom: channelSchema,
    status: activeStatusSchema.optional(),
    ...publishedFields(),
    workspace: taskFields.workspace,
  }),
);
export type NewTask = z.infer<typeof newTaskSchema>;

/**
 * `updateTask`: a partial task. A final status (`complete`, `failed`) finishes the task as
 * `completeTask` does, and may carry its `result` and `error`.
 */
export const taskUpdateSchema = z.lazy(() =>
  z
    .strictObject({
      status: taskStatusSchema.optional(),
      result: taskFields.result,
      error: taskFields.error,
      description: taskFields.description.optional(),
      ...publishedFields(),
      start: taskFields.start,
      awaitingApproval: taskFields.awaitingApproval,
      approval: taskFields.approval,
      conversation: taskFields.conversation,
      usage: taskFields.usage,
    })
    .refine((u) => Object.keys(u).length > 0, { message: "the update is empty: give at least one field to change" })
    .refine((u) => (u.result === undefined && u.error === undefined) || isFinalStatus(u.status), {
      message: 'result and error finish a task: send them with status "complete" or "failed" (or use completeTask)',
    }),
);
export type TaskUpdate = z.infer<typeof taskUpdateSchema>;

export const completionSchema = z.lazy(() =>
  z.strictObject({
    status: finalStatusSchema.optional(),
    result: taskFields.result,
    error: taskFields.error,
    outputPath: taskFields.outputPath.optional(),
  }),
);
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

export const channelActiveSchema = z.lazy(() =>
  z.strictObject({
    taskId: taskIdSchema.nullable().optional(),
  }),
);

// ---- notifications --------------------------------------------------------------------

/** What a notifier (config `notify`) can be run for: a task finishing, failing or waiting, a backend limited. */
export const NOTIFY_EVENTS = ["complete", "failed", "pending-approval", "limited"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

// ---- router intake --------------------------------------------------------------------

export const routeRequestSchema = z.lazy(() =>
  z.strictObject({
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
  }),
);
export type RouteRequest = z.infer<typeof routeRequestSchema>;

/** `POST /api/context/tasks/:taskId/messages`: a follow-up in the task's conversation. */
export const followUpRequestSchema = z.lazy(() =>
  z.strictObject({
    text: z
      .string({ error: "must be the text of the follow-up" })
      .trim()
      .min(1, "must not be empty: say what the task should do next")
      .max(LIMITS.prompt, `must be at most ${LIMITS.prompt} characters; send a shorter message`),
    channel: channelSchema,
  }),
);

/** One answer in a task's transcript (`data/transcripts/<taskId>.jsonl`, one entry a line). */
export const transcriptEntrySchema = z.lazy(() =>
  z.strictObject({
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
  }),
);
export type TranscriptEntry = z.infer<typeof transcriptEntrySchema>;

/** `GET /api/context/tasks/:taskId/transcript`. */
export const transcriptSchema = z.lazy(() =>
  z.strictObject({
    taskId: taskIdSchema,
    description: z.string(),
    entries: z.array(transcriptEntrySchema),
  }),
);
export type Transcript = z.infer<typeof transcriptSchema>;

/** `202` to a follow-up: the task and the number of the step it became. */
export const followUpAcceptedSchema = z.lazy(() =>
  z.strictObject({ taskId: taskIdSchema, step: z.number().int().min(1) }),
);
export type FollowUpAccepted = z.infer<typeof followUpAcceptedSchema>;

/** One workspace as `GET /api/workspaces` shows it: no folder paths, nothing secret. */
const workspaceSummarySchema = z.lazy(() =>
  z.strictObject({
    name: z.string().max(LIMITS.workspaceName),
    description: z.string().nullable(),
    /** The one `router.defaultWorkspace` names. */
    default: z.boolean(),
    /** Configured backends that work in its folder (Ollama answers only and gets no file access). */
    backends: z.array(z.string()),
    claude: z.strictObject({ permissionMode: z.string().nullable(), approveTools: z.string() }),
    codex: z.strictObject({ sandbox: z.string().nullable() }),
  }),
);
export type WorkspaceSummary = z.infer<typeof workspaceSummarySchema>;

/** `GET /api/workspaces`: the configured workspaces, in config order, and the default's name. */
const workspaceListSchema = z.lazy(() =>
  z.strictObject({
    default: z.string().nullable(),
    workspaces: z.array(workspaceSummarySchema),
  }),
);
export type WorkspaceList = z.infer<typeof workspaceListSchema>;

export const actionRequestSchema = z.lazy(() =>
  z.strictObject({
    channel: channelSchema.optional(),
    reason: z.string().max(LIMITS.error).optional(),
    /**
     * The step the person saw waiting (1-based, as `currentStep`); a decision on any other step is
     * refused (409). Optional for curl; every channel sends it.
     */
    step: z.number().int().min(0).max(LIMITS.steps).optional(),
    /** Acts only if the task still waits on this tool-call approval (409 otherwise). */
    approvalId: approvalIdSchema.optional(),
  }),
);

/**
 * What a Slack Approve / Reject button carries (its `value`, as JSON): the task, and the step and
 * tool call the message showed, so a press decides what the person saw or nothing (409).
 */
export const approvalButtonSchema = z.lazy(() =>
  z.strictObject({
    taskId: taskIdSchema,
    step: z.number().int().min(0).max(LIMITS.steps),
    approvalId: approvalIdSchema.optional(),
  }),
);
export type ApprovalButton = z.infer<typeof approvalButtonSchema>;

/** What the approval MCP server sends for one tool call Claude wants to make. */
export const toolApprovalRequestSchema = z.lazy(() =>
  z.strictObject({
    /** The Claude process it serves (from its MCP config). */
    run: z.string().regex(/^[a-f0-9]{32}$/, "must be the run id from the approval server's config"),
    tool_name: z.string().min(1).max(LIMITS.toolName),
    input: z.record(z.string(), z.unknown()),
    tool_use_id: z.string().max(LIMITS.approvalId).optional(),
  }),
);
export type ToolApprovalRequest = z.infer<typeof toolApprovalRequestSchema>;

/** Claude's permission-prompt answer (sdk-tools: PermissionResult): allow, possibly with changed input, or deny. */
export type ToolDecisionAnswer =
  | { behavior: "allow"; updatedInput: Record<string, unknown> }
  | { behavior: "deny"; message: string };
