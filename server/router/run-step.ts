// Running one step of a job on its backend through the warm standby: the start, the streamed
// output (throttled into lastUpdate), the end; and asking a person to approve a step.

import { type Clock, iso } from "../../shared/clock.ts";
import { BackendFailure } from "../backends/backend.ts";
import type { TaskContext } from "../task-context.ts";
import type { Transcripts } from "../transcripts.ts";
import type { WarmStandby } from "../warm-standby/warm-standby.ts";
import type { Job, RouteStep } from "./jobs.ts";
import type { RouterSettings } from "./router.ts";
import { createThrottle, outputLine } from "./step-output.ts";

export interface StepRunnerOptions {
  taskContext: TaskContext;
  warmStandby: WarmStandby;
  clock: Clock;
  settings: RouterSettings;
  transcripts: Transcripts;
  isActive: (taskId: string) => boolean;
  /** Called once a step is done: its new ETA moves the queued tasks' estimated starts. */
  onStepDone: (job: Job) => void;
}

export function createStepRunner(options: StepRunnerOptions) {
  const { taskContext, warmStandby, clock, settings, transcripts, isActive } = options;

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
    // The warm standby takes a ready session synchronously when dispatch is called, so what the
    // health document says now is what this step runs on.
    const warm = warmStandby.getHealth(job.backend).prewarmed.some((s) => s.state === "ready");
    const running = warmStandby.dispatch(job.backend, {
      prompt: step.prompt,
      taskId: job.taskId,
      ...(job.workspace ? { workspace: job.workspace } : {}),
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
    const started = taskContext.updateTask(job.taskId, {
      status: "running",
      currentStep: number,
      lastUpdate: `${label} started: ${step.title}`,
      start: warm ? "warm" : "cold",
    });
    try {
      await started;
      const result = await running;
      throttle.cancel();
      if (!isActive(job.taskId)) throw new BackendFailure("cancelled");
      await transcripts.append(job.taskId, {
        step: number,
        title: step.title,
        prompt: step.prompt,
        answer: result.output,
        backend: job.backend,
        conversation: job.conversation,
        from: step.from ?? null,
        at: iso(clock.now()),
      });
      await taskContext.updateTask(job.taskId, {
        progress: number / total,
        lastUpdate: `${label} done: ${step.title}`,
        ...(result.start !== (warm ? "warm" : "cold") ? { start: result.start } : {}),
      });
      options.onStepDone(job);
      return result.output;
    } catch (error) {
      throttle.cancel();
      abort.abort();
      await running.catch(() => {}); // the child is reaped before the failure is handled
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
