// Which backend takes a task: a pure score from health, load, config preference and task kind,
// and the choice with a person-readable reason ("codex: warm, queue 0").

import type { HealthStatus } from "../../shared/schemas.ts";
import { conflict, invalidInput, SwitchboardError } from "../errors.ts";

/** What the router knows about one configured backend at the moment of choosing. */
export interface Candidate {
  name: string;
  status: HealthStatus;
  /** Why it is dead, when it is ("not installed", "timed out", …). */
  deadReason?: string | null;
  /** When it is limited: until when (ISO) and which window ("five-hour limit reached"). */
  limitedUntil?: string | null;
  limitReason?: string | null;
  /** Tasks waiting in its queue. */
  queued: number;
  /** Tasks it is running now. */
  running: number;
  /** How many tasks it runs at once. */
  concurrency: number;
  /** config.json's `preference`: higher is preferred. */
  preference: number;
}

export interface ChoiceRequest {
  candidates: Candidate[];
  /** The task's kind ("code", "writing", …), matched against `kindPreferences`. */
  kind?: string | null;
  /** Backends config prefers for a kind: `{"code": ["codex"]}`. */
  kindPreferences?: Record<string, string[]>;
  /** A backend the task asked for by name. */
  explicit?: string | null;
  /** Backends ruled out (one that just failed this task). */
  exclude?: string[];
  /**
   * `router.onRateLimit: "wait"`: when no backend can take the task now but some are only
   * limited, queue it on the one whose limit ends first, to start at its reset.
   */
  waitForLimits?: boolean;
}

export interface Choice {
  backend: string;
  score: number;
  reason: string;
}

/** Warm beats healthy beats cold by more than any preference; dead and limited are never chosen. */
export const STATUS_POINTS: Record<Exclude<HealthStatus, "dead" | "limited">, number> = {
  warm: 300,
  healthy: 200,
  cold: 100,
};
/** Per task waiting or running, per slot: three tasks ahead outweigh warm over healthy. */
export const LOAD_PENALTY = 40;
export const PREFERENCE_POINTS = 10;
export const KIND_BONUS = 60;

/** A backend's score, or null when it cannot take work (dead or limited). */
export function scoreBackend(candidate: Candidate, preferredForKind = false): number | null {
  if (candidate.status === "dead" || candidate.status === "limited") return null;
  const load = (candidate.queued + candidate.running) / Math.max(1, candidate.concurrency);
  return (
    STATUS_POINTS[candidate.status] -
    LOAD_PENALTY * load +
    PREFERENCE_POINTS * candidate.preference +
    (preferredForKind ? KIND_BONUS : 0)
  );
}

export function describeCandidate(candidate: Candidate, notes: string[] = []): string {
  const running = candidate.running > 0 ? [`${candidate.running} running`] : [];
  return `${candidate.name}: ${[candidate.status, `queue ${candidate.queued}`, ...running, ...notes].join(", ")}`;
}

/** Picks the best backend, or throws a person-facing error saying why none can be used. */
export function chooseBackend(request: ChoiceRequest): Choice {
  const { candidates, kind } = request;
  // An own key only: a kind named "constructor" or "toString" is just a kind no preference names.
  const preferences = request.kindPreferences ?? {};
  const preferred = new Set(kind && Object.hasOwn(preferences, kind) ? (preferences[kind] ?? []) : []);
  const names = candidates.map((c) => c.name);

  if (request.explicit) {
    const asked = candidates.find((c) => c.name === request.explicit);
    if (!asked) {
      throw invalidInput(
        `backend: there is no backend named ${JSON.stringify(request.explicit)}; configured: ${names.join(", ") || "none"}`,
      );
    }
    const score = scoreBackend(asked, preferred.has(asked.name));
    if (asked.status === "limited") throw limitedConflict(asked);
    if (score === null) {
      throw conflict(
        `backend ${asked.name} is dead (${asked.deadReason ?? "its last ping failed"}); ` +
          'pick another backend, or leave "backend" out to let the router choose',
      );
    }
    return { backend: asked.name, score, reason: describeCandidate(asked, ["as asked"]) };
  }

  const excluded = new Set(request.exclude ?? []);
  let best: Choice | null = null;
  for (const candidate of candidates) {
    if (excluded.has(candidate.name)) continue;
    const isPreferred = preferred.has(candidate.name);
    const score = scoreBackend(candidate, isPreferred);
    if (score === null) continue;
    // Ties go to the name first in alphabetical order, so the choice never depends on config order.
    if (best === null || score > best.score || (score === best.score && candidate.name < best.backend)) {
      const notes = isPreferred && kind ? [`preferred for ${kind}`] : [];
      best = { backend: candidate.name, score, reason: describeCandidate(candidate, notes) };
    }
  }
  if (best) return best;

  if (request.waitForLimits) {
    const resting = candidates
      .filter((c) => !excluded.has(c.name) && c.status === "limited" && c.limitedUntil)
      .sort((a, b) => Date.parse(a.limitedUntil as string) - Date.parse(b.limitedUntil as string))[0];
    if (resting) {
      return {
        backend: resting.name,
        score: 0,
        reason: describeCandidate(resting, [`waits until ${resting.limitedUntil}`]),
      };
    }
  }

  if (candidates.length === 0) {
    throw new SwitchboardError(
      "unavailable",
      "no backends are configured; add one under backends in config.json (see docs/backends-and-router.md)",
    );
  }
  const why = candidates
    .map((c) =>
      excluded.has(c.name)
        ? `${c.name} already failed this task`
        : c.status === "limited"
          ? `${c.name} is limited until ${c.limitedUntil ?? "its window resets"}`
          : `${c.name} is dead (${c.deadReason ?? "ping failed"})`,
    )
    .join("; ");
  throw new SwitchboardError(
    "unavailable",
    `no backend can take this task: ${why}. Check GET /api/health, fix the backend, then try again`,
  );
}

/** The 409 for a task that asks for a limited backend by name: until when, and what to do. */
export class LimitedBackendError extends SwitchboardError {
  readonly backend: string;
  readonly limitedUntil: string | null;
  constructor(backend: string, limitedUntil: string | null, reason: string | null) {
    super(
      "conflict",
      `backend ${backend} is limited until ${limitedUntil ?? "its window resets"}` +
        `${reason ? ` (${reason})` : ""}; pick another backend, leave "backend" out to let the router choose, ` +
        "or send the task again after that time",
    );
    this.backend = backend;
    this.limitedUntil = limitedUntil;
  }
}

const limitedConflict = (candidate: Candidate) =>
  new LimitedBackendError(candidate.name, candidate.limitedUntil ?? null, candidate.limitReason ?? null);
