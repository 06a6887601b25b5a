// TEMPORARY until client/progress.ts lands: replaced by its functions.
import type { Task } from "../../server/schemas.ts";
export const PROGRESS_PHRASING = {
  percent: (task: Task) => Math.round(task.progress * 100),
  stepSentence: (task: Task) => `step ${task.currentStep} of ${task.totalSteps} — ${task.lastUpdate}`,
  remaining: (task: Task, now: Date) =>
    task.eta ? `about ${Math.max(1, Math.round((Date.parse(task.eta) - now.getTime()) / 60000))} minutes left` : null,
};
