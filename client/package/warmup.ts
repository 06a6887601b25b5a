// switchboard/warmup: the seed's six warm-standby functions for a router in another process (or
// in the hub's own). Every one returns a Promise; health is read from the live mirror, and a
// change resolves once the hub has it on disk. The REST call each one makes is listed in README.md.
import type { BackendHealth, Health, WarmSession } from "../../shared/schemas.ts";
import { hubConnection } from "./hub-connection.ts";
import { localHub } from "./local-hub.ts";

export { HubError, HubUnreachableError } from "./hub-connection.ts";
export type { BackendHealth, Health, WarmSession };

const path = (value: string) => encodeURIComponent(value);

/** Resumes the hub's periodic pings (POST /api/warmup/start); resolves with the health document. */
export async function startWarmup(): Promise<Health> {
  const local = localHub();
  if (local) return local.warmStandby.resumePinging();
  return hubConnection().write<Health>("POST", "/api/warmup/start", {});
}

/** Pauses the hub's periodic pings (POST /api/warmup/stop); statuses still follow the clock. */
export async function stopWarmup(): Promise<Health> {
  const local = localHub();
  if (local) return local.warmStandby.pausePinging();
  return hubConnection().write<Health>("POST", "/api/warmup/stop", {});
}

/** Every backend's health, or one backend's (GET /api/health[/:backend], from the live mirror). */
export async function getHealth(): Promise<Health>;
export async function getHealth(backend: string): Promise<BackendHealth>;
export async function getHealth(backend?: string): Promise<Health | BackendHealth> {
  const local = localHub();
  if (local) return backend === undefined ? local.warmStandby.getHealth() : local.warmStandby.getHealth(backend);
  const connection = hubConnection();
  const found = await connection.read(({ health }) =>
    structuredClone(
      backend === undefined ? health : Object.hasOwn(health.backends, backend) ? health.backends[backend] : null,
    ),
  );
  // An unknown backend gets the hub's own refusal (404 naming the configured ones).
  return found ?? connection.get<BackendHealth>(`/api/health/${path(backend as string)}`);
}

/** Pings a backend now and resolves with its new entry (POST /api/health/:backend/ping). */
export async function pingNow(backend: string): Promise<BackendHealth> {
  const local = localHub();
  if (local) return local.warmStandby.pingNow(backend);
  return hubConnection().write<BackendHealth>("POST", `/api/health/${path(backend)}/ping`, {});
}

/** Starts a pre-warmed session and resolves with it, `starting` (POST /api/health/:backend/prewarm). */
export async function preWarm(backend: string): Promise<WarmSession> {
  const local = localHub();
  if (local) return local.warmStandby.preWarm(backend);
  const answer = await hubConnection().write<{ session: WarmSession }>(
    "POST",
    `/api/health/${path(backend)}/prewarm`,
    {},
  );
  return answer.session;
}
