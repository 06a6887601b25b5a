// Running one job to its end: its steps in order (stopping at a step that waits for approval),
// then the output file and the completed task; a failure is retried once elsewhere when
// configured (retry.ts decides), moved or held when the backend is limited, else fails the task.
import { LIMITS } from "../../shared/schemas.ts";
import { BackendFailure, BackendLimited } from "../backends/backend.ts";
import type { Logger } from "../log.ts";
import { truncate } from "../task-transitions.ts";
import { answersByStep } from "../transcripts.ts";
import { writeOutput } from "./artifacts.ts";
import type { ChoiceRequest } from "./backend-choice.ts";
import type { Job } from "./jobs.ts";
import type { Lanes } from "./lanes.ts";
import type { LimitedBackends } from "./limited-backends.ts";
import { failureMessage, shouldRetry } from "./retry.ts";
import type { StepRunner, StepRunnerOptions } from "./run-step.ts";
import type { Choice } from "./scoring.ts";
import { composeOutput } from "./step-output.ts";

/** What the step runner is given too (the task context, transcripts, settings), and more. */
export interface JobRunnerOptions
  extends Pick<StepRunnerOptions, "taskContext" | "transcripts" | "settings" | "isActive"> {
  logger: Logger;
  steps: StepRunner;
  lanes: Lanes;
  limits: LimitedBackends;
  choose: (request: ChoiceRequest) => Choice;
  isStopping: () => boolean;
  /** The router is done with the task here. */
  forget: (taskId: string) => void;
}

export function createJobRunner(options: JobRunnerOptions) {
  const { taskContext, transcripts, settings, logger, steps, limits, isActive, isStopping, forget } = options;

  async function runJob(job: Job): Promise<void> {
    try {
      // A follow-up can add a step while the last one finishes: the job runs until none is left.
      do {
        while (job.next < job.steps.length) {
          if (!isActive(job.taskId) || isStopping()) return;
          const step = job.steps[job.next] as Job["steps"][number];
          if (step.requiresApproval && job.approvedStep !== job.next) {
            await steps.askApproval(job, step);
            return; // the slot is free while a person decides; approval queues the task again
          }
          await steps.runStep(job, step);
          job.next++;
        }
      } while (!(await finish(job)));
    } catch (error) {
      await failed(job, error);
    }
  }

  /** Writes every answer so far to the output file and completes the task, unless a step was added meanwhile. */
  async function finish(job: Job): Promise<boolean> {
    const answers = answersByStep((await transcripts.read(job.taskId)) ?? []);
    try {
      await writeOutput(job.output, composeOutput(job.description, answers));
    } catch (error) {
      throw new BackendFailure(
        "output not written",
        `could not write ${job.output.display}: ${(error as Error).message}`,
      );
    }
    if (job.next < job.steps.length) return false;
    forget(job.taskId);
    if (!isActive(job.taskId)) return true;
    await taskContext.completeTask(job.taskId, {
      status: "complete",
      result: truncate(answers[answers.length - 1]?.answer.trim() || "finished", LIMITS.result),
      outputPath: job.output.display,
    });
    logger.info(`task ${job.taskId} complete; output in ${job.output.display}`);
    return true;
  }

  /** A step failed: retry once on the next-best backend when configured, else fail the task readably. */
  async function failed(job: Job, error: unknown): Promise<void> {
    // Shutting down: the task stays as it is, for the next start-up to recover.
    if (isStopping() || !isActive(job.taskId)) return;
    const step = job.steps[job.next];
    const message = failureMessage(
      step ? { number: job.next + 1, total: job.steps.length, title: step.title } : null,
      job.backend,
      error,
    );
    logger.warn(`task ${job.taskId}: ${message}`);
    if (error instanceof BackendLimited) {
      await limits.limited(job, error.limit.until);
      return;
    }
    job.failedOn.push(job.backend);
    if (shouldRetry({ retryOnFailure: settings.retryOnFailure, failedOn: job.failedOn, error })) {
      let next: Choice | null = null;
      try {
        next = options.choose({ exclude: job.failedOn });
      } catch {
        next = null;
      }
      if (next) {
        try {
          await taskContext.updateTask(job.taskId, {
            status: "queued",
            backend: next.backend,
            backendReason: `retry after ${job.backend} failed; ${next.reason}`,
            lastUpdate: truncate(`${message}; retrying on ${next.backend}`, LIMITS.lastUpdate),
          });
        } catch {
          return; // finished meanwhile
        }
        job.backend = next.backend;
        options.lanes.enqueue(job);
        return;
      }
    }
    forget(job.taskId);
    await taskContext
      .completeTask(job.taskId, { status: "failed", error: truncate(message, LIMITS.error) })
      .catch(() => {});
  }

  return { runJob };
}
