// The router's side of subscription limits: a job whose backend is limited moves to the next-best
// backend ("fallback") or waits in its lane for the reset ("wait"), saying which in the task; a
// health change moves queued jobs off a backend that just became limited and restarts lanes
// whose limit ended. The decision and its sentence are limit-policy.ts.
import type { Clock } from "../../shared/clock.ts";
import { LIMITS } from "../../shared/schemas.ts";
import type { RouterSettings } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TaskContext } from "../task-context.ts";
import { truncate } from "../task-transitions.ts";
import type { WarmStandby } from "../warm-standby/warm-standby.ts";
import type { Job } from "./jobs.ts";
import type { Lanes } from "./lanes.ts";
import { limitAction, limitNote, resetTime } from "./limit-policy.ts";
import type { Choice } from "./scoring.ts";

export interface LimitedBackendsOptions {
  taskContext: TaskContext;
  warmStandby: WarmStandby;
  jobs: ReadonlyMap<string, Job>;
  lanes: () => Lanes;
  settings: RouterSettings;
  clock: Clock;
  logger: Logger;
  /** The zone reset times are told in ("Claude is limited until 14:05"). */
  timeZone: string;
  /** The router's choice of backend, leaving out `exclude`. */
  choose: (request: { exclude: string[] }) => Choice;
  isStopping: () => boolean;
}

export type LimitedBackends = ReturnType<typeof createLimitedBackends>;

export function createLimitedBackends(options: LimitedBackendsOptions) {
  const { taskContext, warmStandby, jobs, settings, clock, logger } = options;
  /** Queued jobs being moved off a limited backend (a health change may come again meanwhile). */
  const moving = new Set<string>();
  let changeQueued = false;

  /** Until when a backend is limited (epoch ms), or null when it is not. */
  function limitedUntil(name: string): number | null {
    const entry = warmStandby.getHealth(name);
    return entry.status === "limited" && entry.limitedUntil ? Date.parse(entry.limitedUntil) : null;
  }

  /**
   * The job's backend is limited until `until`: move it to the next-best backend ("fallback")
   * or keep it queued there until the reset ("wait"); the task says which. A job taken from a
   * queue (`fromQueue`) with nowhere to go stays as it is: it already waits in its lane.
   */
  async function limited(job: Job, until: number, fromQueue = false): Promise<void> {
    let alternative: Choice | null = null;
    if (settings.onRateLimit === "fallback") {
      try {
        const choice = options.choose({ exclude: [job.backend] });
        alternative = limitedUntil(choice.backend) === null ? choice : null;
      } catch {
        alternative = null;
      }
    }
    const action = limitAction({ policy: settings.onRateLimit, until, alternative: alternative?.backend ?? null });
    if (fromQueue && action.action === "wait") return;
    const note = limitNote(job.backend, action, resetTime(until, clock.now(), options.timeZone));
    try {
      await taskContext.updateTask(job.taskId, {
        status: "queued",
        lastUpdate: truncate(note, LIMITS.lastUpdate),
        ...(action.action === "move"
          ? { backend: action.backend, backendReason: truncate(`${note}; ${alternative?.reason}`, LIMITS.lastUpdate) }
          : {}),
      });
    } catch {
      return; // finished meanwhile
    }
    logger.info(`task ${job.taskId}: ${note}`);
    const lanes = options.lanes();
    lanes.remove(job);
    if (action.action === "move") job.backend = action.backend;
    lanes.enqueue(job, true);
  }

  function healthChanged(): void {
    changeQueued = false;
    if (options.isStopping()) return;
    const lanes = options.lanes();
    if (settings.onRateLimit === "fallback") {
      for (const name of lanes.names()) {
        const until = limitedUntil(name);
        if (until === null) continue;
        for (const job of lanes.queued(name).flatMap((id) => jobs.get(id) ?? [])) {
          const taskId = job.taskId;
          if (job.state !== "queued" || moving.has(taskId)) continue;
          moving.add(taskId);
          void limited(job, until, true).finally(() => moving.delete(taskId));
        }
      }
    }
    lanes.pumpAll();
  }

  /** Follows the health document; returns the unsubscribe. */
  function follow(): () => void {
    return warmStandby.document.subscribe(() => {
      // Listeners run inside the change; react once it (and any change applied with it) is done.
      if (changeQueued) return;
      changeQueued = true;
      queueMicrotask(healthChanged);
    });
  }

  return { limitedUntil, limited, follow };
}
