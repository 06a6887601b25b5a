// Compatibility shim over client/progress.ts, kept only while client/telegram/message.ts still
// imports it; the dashboard itself uses ../progress.ts. Delete once nothing imports this file.
import type { Task } from "../../server/schemas.ts";
import { percent, remainingText, stepSentence } from "../progress.ts";

export const PROGRESS_PHRASING = {
  percent: (task: Task): number => percent(task) ?? 0,
  stepSentence: (task: Task): string => stepSentence(task),
  remaining: (task: Task, now: Date): string | null => remainingText(task.eta, now),
};
