// Work arriving from a person on any channel — a new task or a follow-up to one — checked
// before it reaches the hub, so the person hears what was wrong in their own channel, and
// refusals turned into one person-facing reason whichever channel asked.
import { type Channel, LIMITS, type RouteRequest } from "../shared/schemas.ts";
import { type HubClient, HubError } from "./hub-client.ts";

/** The longest task text a channel hands the router (it becomes the task's description). */
export const TASK_TEXT_LIMIT = LIMITS.description;

/** The hub did not take the work; `message` says why and what to do, for the person. */
export class IntakeRefused extends Error {
  constructor(
    message: string,
    /** The hub's status code, or null when the hub was not asked or not reached. */
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = "IntakeRefused";
  }
}

/** What is wrong with a text for the hub, for the person, or null when it can be sent. */
export function textProblem(text: string, limit: number = TASK_TEXT_LIMIT): string | null {
  const trimmed = text.trim();
  if (!trimmed) return "say what the task should do";
  if (trimmed.length > limit) {
    return `a task's text may be at most ${limit} characters (this one has ${trimmed.length}); shorten it, or start with the gist and add the rest as a follow-up`;
  }
  return null;
}

/** "in workspace site: fix the failing test": a chat start that names its workspace first. */
const IN_WORKSPACE = /^in\s+workspace\s+([^\s:]+)\s*:\s*/i;

/**
 * A new task's text as a person typed it in a chat (Telegram, Slack): a leading
 * "in workspace <name>:" names the workspace (the words voice uses, with a colon so the task's
 * own text can never be mistaken for a name), and the rest is the task. The name goes to the hub
 * as typed: an unknown one is refused there, with the configured names.
 */
export function parseChatStart(text: string): { text: string; workspace?: string } {
  const trimmed = text.trim();
  const named = IN_WORKSPACE.exec(trimmed);
  if (!named) return { text: trimmed };
  return { text: trimmed.slice(named[0].length), workspace: named[1] as string };
}

/** Why a call to the hub failed, in words for the person. */
export function refusalReason(error: unknown): string {
  if (error instanceof IntakeRefused || error instanceof HubError) return error.message;
  return "the hub could not be reached; try again in a moment";
}

async function ask<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new IntakeRefused(refusalReason(error), error instanceof HubError ? error.status : null);
  }
}

/** Hands a person's text to the router as a new task started from `startedFrom`. */
export async function startTask(
  hub: HubClient,
  text: string,
  startedFrom: Channel,
  extra: Partial<Pick<RouteRequest, "backend" | "workspace">> = {},
): Promise<{ taskId: string }> {
  const problem = textProblem(text);
  if (problem) throw new IntakeRefused(problem);
  return ask(() => hub.route({ description: text.trim(), startedFrom, ...extra }));
}

/** Continues a task's conversation with the person's text: `{taskId, step}` of the added step. */
export async function sendFollowUp(
  hub: HubClient,
  taskId: string,
  text: string,
  channel: Channel,
): Promise<{ taskId: string; step: number }> {
  if (!text.trim()) throw new IntakeRefused("say what to add to the task");
  return ask(() => hub.sendMessage(taskId, text.trim(), channel));
}
