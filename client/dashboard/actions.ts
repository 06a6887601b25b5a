// What the dashboard's buttons and forms ask of the hub: main.ts wires each to the hub client; the
// cards and rows call them and show the sentence they resolve with.
import type { NewTaskRequest } from "./new-task-view.ts";

/** One answer of a task's transcript, as the card shows it. */
export interface TranscriptEntryView {
  step: number;
  title: string;
  answer: string;
  backend: string;
  from: string | null;
  at: string;
}

/** What the buttons and forms do; each resolves with a sentence for the person or throws an Error to show. */
export interface DashboardActions {
  /** `step`: the step the card shows waiting (the hub refuses a decision on any other). */
  approve(taskId: string, step: number, approvalId?: string): Promise<string>;
  reject(taskId: string, step: number, approvalId?: string): Promise<string>;
  ping(backend: string): Promise<string>;
  prewarm(backend: string): Promise<string>;
  startTask(request: NewTaskRequest): Promise<string>;
  followUp(taskId: string, text: string): Promise<string>;
  /** The task's answers so far, as Markdown ("" before the first). */
  output(taskId: string): Promise<string>;
  transcript(taskId: string): Promise<TranscriptEntryView[]>;
}
