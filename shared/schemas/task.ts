// The task context's wire shapes: channels, statuses, the limits on every string and list, a
// task (plan, approvals, conversation, usage) and the context document that holds the tasks.
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
/** The tools whose approval `detail` is a unified diff of the file they change (when the hub could make one). */
export const EDIT_TOOLS: ReadonlySet<string> = new Set(["Edit", "MultiEdit", "Write"]);

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

export const taskFields = {
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
  // Fields added since the original contract: new fields only, none renamed, so a client that reads
  // the original ones keeps working (test/integration/original-contract.test.ts).
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
