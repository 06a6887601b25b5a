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
}

export interface Choice {
  backend: string;
  score: number;
  reason: string;
}

/** Warm beats healthy beats cold by more than any preference; dead is never chosen. */
export const STATUS_POINTS: Record<Exclude<HealthStatus, "dead">, number> = { warm: 300, healthy: 200, cold: 100 };
/** Per task waiting or running, per slot: three tasks ahead outweigh warm over healthy. */
export const LOAD_PENALTY = 40;
export const PREFERENCE_POINTS = 10;
export const KIND_BONUS = 60;

/** A backend's score, or null when it cannot take work (dead). */
export function scoreBackend(candidate: Candidate, preferredForKind = false): number | null {
  if (candidate.status === "dead") return null;
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
  const preferred = new Set(kind ? (request.kindPreferences?.[kind] ?? []) : []);
  const names = candidates.map((c) => c.name);

  if (request.explicit) {
    const asked = candidates.find((c) => c.name === request.explicit);
    if (!asked) {
      throw invalidInput(
        `backend: there is no backend named ${JSON.stringify(request.explicit)}; configured: ${names.join(", ") || "none"}`,
      );
    }
    const score = scoreBackend(asked, preferred.has(asked.name));
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
        : `${c.name} is dead (${c.deadReason ?? "ping failed"})`,
    )
    .join("; ");
  throw new SwitchboardError(
    "unavailable",
    `no backend can take this task: ${why}. Check GET /api/health, fix the backend, then try again`,
  );
}
