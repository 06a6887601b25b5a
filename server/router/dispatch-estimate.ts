// When each queued task is expected to start on its backend, from the running tasks' ETAs:
// the estimate that drives the warm standby's automatic pre-warm.

export interface EstimateInput {
  now: number;
  /** Tasks the backend runs at once. */
  concurrency: number;
  /** When each running task is expected to finish (its ETA, or an estimate from its steps left). */
  runningEndsAt: number[];
  /** How long each queued task is expected to take, in queue order. */
  queuedDurationsMs: number[];
}

/** Estimated dispatch time of each queued task, in queue order: each takes the first slot to free up. */
export function estimateDispatchTimes(input: EstimateInput): number[] {
  const slots = input.runningEndsAt.map((at) => Math.max(input.now, at));
  while (slots.length < input.concurrency) slots.push(input.now);
  return input.queuedDurationsMs.map((duration) => {
    let earliest = 0;
    for (let i = 1; i < slots.length; i++) if ((slots[i] as number) < (slots[earliest] as number)) earliest = i;
    const at = slots[earliest] as number;
    slots[earliest] = at + duration;
    return at;
  });
}
