// The usage document (`data/usage.json`, topic `usage`): every run's tokens and cost, recorded
// through the versioned document like every other change and acknowledged once durable. Old days
// are dropped as runs arrive and at each midnight, so the document always holds the last 30.
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import type { Usage, UsageDocument } from "../../shared/schemas.ts";
import type { VersionedDocument } from "../document.ts";
import { nextDayStart, pruneDays, recordRun } from "./usage-tally.ts";

export interface UsageOptions {
  document: VersionedDocument<UsageDocument>;
  clock: Clock;
}

export type UsageBook = ReturnType<typeof createUsage>;

export function createUsage({ document, clock }: UsageOptions) {
  let midnight: TimerHandle | null = null;
  let running = false;

  /** Adds one run of `backend`; resolves once it is on disk. */
  async function record(backend: string, usage: Usage): Promise<void> {
    await document.mutate((state) => recordRun(state, backend, usage, clock.now()));
  }

  function scheduleMidnight(): void {
    if (!running) return;
    const at = nextDayStart(clock.now(), document.state.timeZone);
    midnight = clock.setTimeout(() => {
      midnight = null;
      document.mutate((state) => pruneDays(state, clock.now())).catch(() => {});
      scheduleMidnight();
    }, at - clock.now());
    midnight.unref?.();
  }

  /** Drops days that went out of range while the hub was down, and from now on at each midnight. */
  function start(): void {
    if (running) return;
    running = true;
    document.mutate((state) => pruneDays(state, clock.now())).catch(() => {});
    scheduleMidnight();
  }

  function stop(): void {
    running = false;
    if (midnight) clock.clearTimeout(midnight);
    midnight = null;
  }

  return { document, record, getUsage: (): UsageDocument => document.state, start, stop };
}
