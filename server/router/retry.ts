// What a failed step becomes: the sentence the task shows, and whether it is tried again on
// another backend. Pure; the router acts on the answer.
import { BackendFailure } from "../backends/backend.ts";

/** "step 2 of 3 (Summarise) failed on claude: timed out" — without saying "failed" twice. */
export function failureMessage(
  step: { number: number; total: number; title: string } | null,
  backend: string,
  error: unknown,
): string {
  const where = step ? `step ${step.number} of ${step.total} (${step.title}) ` : "";
  const why =
    error instanceof BackendFailure && error.reason === "failed"
      ? error.message.replace(/^failed: /, "")
      : error instanceof Error
        ? error.message
        : String(error);
  return `${where}failed on ${backend}: ${why}`;
}

/**
 * A task is retried once, on another backend, when retries are on and the failure is a
 * BackendFailure (a timeout, an exit, a dead CLI, an output that could not be written), not a
 * bug. `failedOn` already holds the backend that just failed.
 */
export function shouldRetry(input: { retryOnFailure: boolean; failedOn: readonly string[]; error: unknown }): boolean {
  return input.retryOnFailure && input.failedOn.length === 1 && input.error instanceof BackendFailure;
}
