// Running one step of a job on its backend through the warm standby, as the next turn of the
// task's conversation: the start, the streamed output (throttled into lastUpdate), the answer
// (in the transcript before the step counts as done), the conversation kept for the next turn;
// and asking a person to approve a step.

import { type Clock, iso } from "../../shared/clock.ts";
import { LIMITS, type Usage } from "../../shared/schemas.ts";
import { BackendFailure } from "../backends/backend.ts";
import { addUsage } from "../backends/stream-events.ts";
import type { RouterSettings } from "../config.ts";
import type { TaskContext } from "../task-context.ts";
import { truncate } from "../task-transitions.ts";
import type { Transcripts } from "../transcripts.ts";
import type { UsageBook } from "../usage/usage.ts";
import type { WarmStandby } from "../warm-standby/warm-standby.ts";
import { conversationHistory, newConversationNote, planTurn, turnPrompt } from "./conversation.ts";
import type { Job, RouteStep } from "./jobs.ts";
import { createThrottle, outputLine } from "./step-output.ts";
import type { WarmConversations } from "./warm-conversations.ts";

export interface StepRunnerOptions {
  taskContext: TaskContext;
  warmStandby: WarmStandby;
  clock: Clock;
  settings: RouterSettings;
  transcripts: Transcripts;
  /** Processes kept from a conversation's last turn. */
  conversations: WarmConversations;
  isActive: (taskId: string) => boolean;
  /** Called once a step is done: its new ETA moves the queued tasks' estimated starts. */
  onStepDone: (job: Job) => void;
  /** Where every run's usage is tallied per backend and day (the `usage` document). */
  usage?: UsageBook;
}

export type StepRunner = ReturnType<typeof createStepRunner>;

export function createStepRunner(options: StepRunnerOptions) {
  const { taskContext, warmStandby, clock, settings, transcripts, conversations, isActive } = options;

  /** The task's usage with one more run added (summed over its steps and follow-ups). */
  const usageAfter = (taskId: string, run: Usage): Usage => addUsage(taskContext.getActiveTask(taskId)?.usage, run);

  /** Tallies a run in the usage document; a failing disk is the document's to report, not the step's. */
  function tally(backend: string, run: Usage): void {
    options.usage?.record(backend, run).catch(() => {});
  }

  /**
   * Runs the job's next step and resolves with its answer, once that is in the task's transcript;
   * the task shows each stage.
   */
  async function runStep(job: Job, step: RouteStep): Promise<string> {
    const number = job.next + 1;
    const total = job.steps.length;
    const abort = new AbortController();
    job.abort = abort;
    const label = `step ${number} of ${total}`;
    let streamed = "";
    const throttle = createThrottle(clock, settings.outputThrottleMs, (text) => {
      taskContext.updateTask(job.taskId, { lastUpdate: `${label}: ${text}` }).catch(() => {
        // The task finished (cancelled, rejected) while output was still arriving.
      });
    });
    const earlier = (await transcripts.read(job.taskId)) ?? [];
    const turn = planTurn({ backend: job.backend, conversation: job.conversation, earlier });
    const prompt = turnPrompt({
      description: job.description,
      titles: job.steps.map((s) => s.title),
      index: job.next,
      prompt: step.prompt,
      followUp: step.from !== undefined,
      turn,
    });
    const continued = turn.mode === "continue" ? turn.conversation : null;
    const kept = continued ? conversations.take(job.taskId, continued) : null;
    // The warm standby takes a ready session synchronously when dispatch is called, so what the
    // health document says now is what this step runs on (a kept conversation is warm too).
    const warm =
      kept !== null ||
      (continued === null && warmStandby.getHealth(job.backend).prewarmed.some((s) => s.state === "ready"));
    const running = warmStandby.dispatch(job.backend, {
      prompt,
      taskId: job.taskId,
      ...(job.workspace ? { workspace: job.workspace } : {}),
      ...(continued ? { resume: continued.id, history: conversationHistory(earlier, continued) } : {}),
      ...(kept ? { conversation: kept } : {}),
      keep: true,
      signal: abort.signal,
      timeoutMs: settings.stepTimeoutMs,
      onOutput: (text) => {
        streamed += text;
        const line = outputLine(streamed);
        if (line) throttle.push(line);
      },
    });
    // Handled below; this keeps a rejection that arrives while the start is saved from counting as unhandled.
    running.catch(() => {});
    const note = newConversationNote(turn, job.backend);
    const started = taskContext.updateTask(job.taskId, {
      status: "running",
      currentStep: number,
      lastUpdate: truncate(`${label} started: ${step.title}${note ? ` (${note})` : ""}`, LIMITS.lastUpdate),
      start: warm ? "warm" : "cold",
    });
    try {
      await started;
      const result = await running;
      throttle.cancel();
      if (result.usage) tally(job.backend, result.usage);
      if (!isActive(job.taskId)) {
        result.kept?.kill();
        throw new BackendFailure("cancelled");
      }
      // A backend that names no conversation (Ollama) has one the hub keeps, named by the task.
      const conversation = { backend: job.backend, id: result.conversationId ?? continued?.id ?? job.taskId };
      if (result.kept) conversations.keep(job.taskId, conversation, result.kept);
      const changed = job.conversation?.backend !== conversation.backend || job.conversation.id !== conversation.id;
      job.conversation = conversation;
      await transcripts.append(job.taskId, {
        step: number,
        title: step.title,
        prompt,
        answer: result.output,
        backend: job.backend,
        conversation,
        from: step.from ?? null,
        at: iso(clock.now()),
      });
      await taskContext.updateTask(job.taskId, {
        progress: number / total,
        lastUpdate: `${label} done: ${step.title}`,
        ...(changed ? { conversation } : {}),
        ...(result.start !== (warm ? "warm" : "cold") ? { start: result.start } : {}),
        ...(result.usage ? { usage: usageAfter(job.taskId, result.usage) } : {}),
      });
      options.onStepDone(job);
      return result.output;
    } catch (error) {
      throttle.cancel();
      abort.abort();
      await running.catch(() => {}); // the child is reaped before the failure is handled
      // A failed run may still have cost something (claude reports it with its error).
      if (error instanceof BackendFailure && error.usage) {
        tally(job.backend, error.usage);
        if (isActive(job.taskId)) {
          await taskContext.updateTask(job.taskId, { usage: usageAfter(job.taskId, error.usage) }).catch(() => {});
        }
      }
      throw error;
    } finally {
      job.abort = null;
    }
  }

  /** Holds the job at its next step until a person approves or rejects it. */
  async function askApproval(job: Job, step: RouteStep): Promise<void> {
    job.state = "waiting";
    const number = job.next + 1;
    await taskContext.updateTask(job.taskId, {
      status: "pending-approval",
      currentStep: number,
      awaitingApproval: { step: number, title: step.title, detail: step.prompt },
      lastUpdate: `step ${number} of ${job.steps.length} waits for approval: ${step.title}`,
    });
  }

  return { runStep, askApproval };
}
