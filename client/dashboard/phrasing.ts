// Stand-in for client/progress.ts (the phrasing shared by every channel), which has not landed
// yet: the dashboard asks only these three questions, so swapping this file for imports from
// ../progress.ts is the whole change. Kept deliberately plain.
import type { Task } from "../../server/schemas.ts";

export const PROGRESS_PHRASING = {
  percent: (task: Task): number => Math.round(task.progress * 100),
  stepSentence: (task: Task): string => {
    const step = task.totalSteps > 0 ? `step ${task.currentStep} of ${task.totalSteps}` : "";
    return [step, task.lastUpdate].filter(Boolean).join(" — ");
  },
  remaining: (task: Task, now: Date): string | null => {
    if (!task.eta) return null;
    const minutes = Math.round((Date.parse(task.eta) - now.getTime()) / 60_000);
    return minutes >= 1 ? `about ${minutes} ${minutes === 1 ? "minute" : "minutes"} left` : "almost done";
  },
};
