// The `health` document seen per backend: every change to an entry goes through `change`, which
// recomputes the status from the entry and the clock and schedules the next time-driven change
// (warm → healthy → cold), so a status is true at every instant without a ping.

import { type Clock, iso, type TimerHandle } from "../../shared/clock.ts";
import type { BackendHealth, Health } from "../../shared/schemas.ts";
import { emptyEntry } from "../backends/health-entry.ts";
import { healthStatus, nextTransitionAt, type StatusWindows } from "../backends/health-status.ts";
import type { BackendSettings } from "../backends/settings.ts";
import type { VersionedDocument } from "../document.ts";
import { notFound } from "../errors.ts";

export interface BackendHealthOptions {
  document: VersionedDocument<Health>;
  /** The configured, enabled backends by name. */
  backends: Readonly<Record<string, BackendSettings>>;
  windows: StatusWindows;
  clock: Clock;
}

export type BackendHealthBoard = ReturnType<typeof createBackendHealth>;

export function createBackendHealth({ document, backends, windows, clock }: BackendHealthOptions) {
  const transitionTimers = new Map<string, TimerHandle>();
  let running = false;

  /** The configured backend's settings, looked up as an own key ("constructor" is no backend). */
  const configured = (name: string): BackendSettings | undefined =>
    Object.hasOwn(backends, name) ? backends[name] : undefined;

  /** The settings of a configured backend; 404 for any other name. */
  function settingsOf(name: string): BackendSettings {
    const backend = configured(name);
    if (!backend) {
      throw notFound(
        `no backend named ${JSON.stringify(name)}; configured: ${Object.keys(backends).join(", ") || "none"}`,
      );
    }
    return backend;
  }

  const withStatus = (entry: BackendHealth, now: number): BackendHealth => {
    const status = healthStatus(entry, now, windows);
    return status === entry.status ? entry : { ...entry, status };
  };

  function entry(name: string): BackendHealth {
    const current = Object.hasOwn(document.state.backends, name) ? document.state.backends[name] : undefined;
    return current ?? emptyEntry(configured(name)?.kind ?? "unknown");
  }

  /** Applies a change to one entry (status recomputed) and schedules its next time-driven change. */
  function change(name: string, edit: (entry: BackendHealth) => BackendHealth): BackendHealth {
    const now = clock.now();
    const kind = configured(name)?.kind ?? "unknown";
    const applied = document.apply((state) => {
      const before = state.backends[name] ?? emptyEntry(kind);
      const after = withStatus(edit(before), now);
      if (after === before && state.backends[name]) return state;
      return { ...state, lastUpdated: iso(now), backends: { ...state.backends, [name]: after } };
    });
    // Durability is the document's job; a failing disk is logged by its writer and retried.
    if (applied) document.persist().catch(() => {});
    scheduleTransition(name);
    return entry(name);
  }

  function scheduleTransition(name: string): void {
    const current = document.state.backends[name];
    const previous = transitionTimers.get(name);
    if (previous) clock.clearTimeout(previous);
    transitionTimers.delete(name);
    if (!running || !current) return;
    const next = nextTransitionAt(current, clock.now(), windows);
    if (next === null) return;
    const timer = clock.setTimeout(() => {
      transitionTimers.delete(name);
      change(name, (e) => e);
    }, next - clock.now());
    timer.unref?.();
    transitionTimers.set(name, timer);
  }

  /**
   * Makes an entry for every configured backend (dropping others and entries of another kind),
   * passes each through `prepare`, recomputes statuses from the persisted timestamps, and from
   * then on keeps them true as time passes.
   */
  function start(prepare: (entry: BackendHealth, name: string) => BackendHealth): void {
    running = true;
    const now = clock.now();
    document.apply((state) => {
      const next: Record<string, BackendHealth> = {};
      for (const [name, backend] of Object.entries(backends)) {
        const previous = state.backends[name];
        const kept = previous && previous.kind === backend.kind ? previous : emptyEntry(backend.kind);
        next[name] = withStatus(prepare(kept, name), now);
      }
      return { ...state, lastUpdated: iso(now), backends: next };
    });
    document.persist().catch(() => {});
    for (const name of Object.keys(backends)) scheduleTransition(name);
  }

  function stop(): void {
    running = false;
    for (const timer of transitionTimers.values()) clock.clearTimeout(timer);
    transitionTimers.clear();
  }

  return { document, backends, settingsOf, entry, change, start, stop };
}
