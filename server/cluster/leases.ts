// Work that must run once across hubs — a routed task, the JSON file snapshots — belongs to the
// hub holding its lease in Redis (`SET … NX PX`). The holder renews it while it lives; when a
// hub dies its leases expire and another hub takes the work over.
import type { Redis } from "ioredis";
import type { Logger } from "../log.ts";
import { leaseKey } from "./redis-keys.ts";
import { RELEASE_SCRIPT, RENEW_SCRIPT } from "./scripts.ts";

/** What the router needs to run a task once: claim it before running, release it when done. */
export interface WorkClaims {
  /** Several hubs share the work (so a dead hub's work must be looked for and taken over). */
  readonly shared: boolean;
  /** How often to look for work whose hub died. */
  readonly checkIntervalMs: number;
  /** True when this hub holds (or now took) the work's lease. */
  claim(name: string): Promise<boolean>;
  release(name: string): Promise<void>;
}

/** One hub alone: every claim is granted. */
export const soleClaims: WorkClaims = {
  shared: false,
  checkIntervalMs: 0,
  claim: async () => true,
  release: async () => {},
};

export interface LeasesOptions {
  redis: Redis;
  keyPrefix: string;
  hubId: string;
  /** A lease not renewed for this long is free for another hub. */
  ttlMs: number;
  logger: Logger;
  /** Called when a lease this hub held was found taken or gone (Redis lost it, or a long pause). */
  onLost?: (name: string) => void;
}

export class Leases implements WorkClaims {
  readonly shared = true;
  readonly checkIntervalMs: number;
  private readonly options: LeasesOptions;
  private readonly held = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(options: LeasesOptions) {
    this.options = options;
    this.checkIntervalMs = Math.max(50, Math.floor(options.ttlMs / 2));
    this.timer = setInterval(() => this.renewAll(), Math.max(50, Math.floor(options.ttlMs / 3)));
    this.timer.unref();
  }

  get holding(): ReadonlySet<string> {
    return this.held;
  }

  async claim(name: string): Promise<boolean> {
    const { redis, keyPrefix, hubId, ttlMs } = this.options;
    const key = leaseKey(keyPrefix, name);
    const taken = await redis.set(key, hubId, "PX", ttlMs, "NX");
    if (taken === "OK" || (await redis.eval(RENEW_SCRIPT, 1, key, hubId, ttlMs)) === 1) {
      this.held.add(name);
      return true;
    }
    return false;
  }

  /**
   * Claims a piece of work that happens once and is never renewed (a notification): true for
   * the first hub to ask; the key is forgotten after `ttlMs`.
   */
  async once(name: string, ttlMs = 60 * 60_000): Promise<boolean> {
    const { redis, keyPrefix, hubId } = this.options;
    return (await redis.set(leaseKey(keyPrefix, name), hubId, "PX", ttlMs, "NX")) === "OK";
  }

  async release(name: string): Promise<void> {
    this.held.delete(name);
    await this.options.redis.eval(RELEASE_SCRIPT, 1, leaseKey(this.options.keyPrefix, name), this.options.hubId);
  }

  /** Which hub holds a lease now, if any. */
  holder(name: string): Promise<string | null> {
    return this.options.redis.get(leaseKey(this.options.keyPrefix, name));
  }

  /** Stops renewing and gives every lease back, so other hubs take the work at once. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const names = [...this.held];
    this.held.clear();
    await Promise.allSettled(
      names.map((name) =>
        this.options.redis.eval(RELEASE_SCRIPT, 1, leaseKey(this.options.keyPrefix, name), this.options.hubId),
      ),
    );
  }

  private renewAll(): void {
    const { redis, keyPrefix, hubId, ttlMs, logger } = this.options;
    for (const name of this.held) {
      redis.eval(RENEW_SCRIPT, 1, leaseKey(keyPrefix, name), hubId, ttlMs).then(
        (renewed) => {
          if (renewed === 1 || !this.held.has(name)) return;
          this.held.delete(name);
          logger.warn(`lost the lease on ${name}; another hub may take it over`);
          this.options.onLost?.(name);
        },
        () => {
          // Redis unreachable: keep trying; the lease expires on its own if this lasts.
        },
      );
    }
  }
}
