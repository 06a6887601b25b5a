// Which backend takes a task now: the candidates as the lanes and the warm standby see them,
// handed to the pure choice in scoring.ts; and which backend a task already on one continues with.
import type { Task } from "../../shared/schemas.ts";
import type { RouterSettings } from "../config.ts";
import type { WarmStandby } from "../warm-standby/warm-standby.ts";
import type { Lanes } from "./lanes.ts";
import { type Candidate, type Choice, chooseBackend, type ChoiceRequest as ScoringRequest } from "./scoring.ts";

/** What a task asks of the choice; the candidates and preferences are filled in here. */
export type ChoiceRequest = Pick<ScoringRequest, "explicit" | "kind" | "exclude">;

export function createBackendChoice(options: { lanes: Lanes; warmStandby: WarmStandby; settings: RouterSettings }) {
  const { lanes, warmStandby, settings } = options;

  function candidates(): Candidate[] {
    return lanes.names().map((name) => {
      const entry = warmStandby.getHealth(name);
      return {
        name,
        status: entry.status,
        deadReason: entry.reason,
        limitedUntil: entry.limitedUntil ?? null,
        limitReason: entry.limitReason ?? null,
        ...lanes.load(name),
        concurrency: settings.concurrency,
        preference: warmStandby.backends[name]?.preference ?? 0,
      };
    });
  }

  const choose = (request: ChoiceRequest): Choice =>
    chooseBackend({
      candidates: candidates(),
      kindPreferences: settings.kinds,
      ...(request.explicit ? { explicit: request.explicit } : {}),
      ...(request.kind ? { kind: request.kind } : {}),
      ...(request.exclude ? { exclude: request.exclude } : {}),
      waitForLimits: settings.onRateLimit === "wait",
    });

  /** The task's own backend while it is configured and not dead; else the best one now. */
  function usableBackend(task: Task): { backend: string; reason: string } {
    const status = task.backend && lanes.has(task.backend) ? warmStandby.getHealth(task.backend).status : "dead";
    // A limited backend keeps its tasks only when they are to wait for it.
    if (task.backend && status !== "dead" && (status !== "limited" || settings.onRateLimit === "wait")) {
      return { backend: task.backend, reason: task.backendReason ?? task.backend };
    }
    const choice = choose({ kind: task.kind ?? null });
    return { backend: choice.backend, reason: choice.reason };
  }

  return { choose, usableBackend };
}
