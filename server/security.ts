// Who may talk to the hub: the bearer token, and Origin/Host checks against cross-site
// WebSocket hijacking and DNS rebinding. Pure decisions; the HTTP layer applies them.
import { timingSafeEqual } from "node:crypto";

export interface AccessPolicy {
  token: string | null;
  allowedOrigins: string[];
  allowedHosts: string[];
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return LOOPBACK_NAMES.has(name) || name.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(name);
}

/** The host name of a Host header, without its port. */
export function hostName(hostHeader: string): string {
  if (hostHeader.startsWith("[")) {
    const end = hostHeader.indexOf("]");
    return end > 0 ? hostHeader.slice(0, end + 1).toLowerCase() : hostHeader.toLowerCase();
  }
  const colon = hostHeader.indexOf(":");
  return (colon === -1 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

/** A Host header is accepted when it names loopback or a configured name (DNS rebinding guard). */
export function isHostAllowed(hostHeader: string | undefined, policy: AccessPolicy): boolean {
  if (!hostHeader) return false;
  const name = hostName(hostHeader);
  return isLoopbackHost(name) || policy.allowedHosts.some((allowed) => allowed.toLowerCase() === name);
}

/**
 * An Origin is accepted when absent (a non-browser client), the hub's own (same host and port
 * as the Host header), or configured.
 */
export function isOriginAllowed(
  origin: string | undefined,
  hostHeader: string | undefined,
  policy: AccessPolicy,
): boolean {
  if (origin === undefined) return true;
  if (policy.allowedOrigins.includes(origin)) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return false;
  return hostHeader !== undefined && parsed.host.toLowerCase() === hostHeader.toLowerCase();
}

/** The token a request carries: `Authorization: Bearer …`, or `?token=` (browsers' WebSocket). */
export function presentedToken(authorization: string | undefined, queryToken: string | undefined): string | null {
  // The scheme name is case-insensitive (RFC 7235).
  const bearer = authorization ? /^bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  if (bearer) return (bearer[1] as string).trim();
  return queryToken ?? null;
}

export function isTokenValid(expected: string | null, presented: string | null): boolean {
  if (expected === null) return true;
  if (presented === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
