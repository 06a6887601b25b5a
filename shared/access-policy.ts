// Who may talk to the hub, and to the voice channel's status server: the bearer token, and
// Origin/Host checks against cross-site WebSocket hijacking and DNS rebinding. Pure decisions;
// each HTTP layer applies them (one policy, shared, never copied).
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

export interface AccessPolicy {
  token: string | null;
  allowedOrigins: string[];
  allowedHosts: string[];
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/**
 * A Host header name that means this machine: `localhost`, 127.x.x.x or ::1. A name that only
 * looks loopback (`anything.localhost`) is not: a resolver may send it anywhere.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return LOOPBACK_NAMES.has(name) || /^127(\.\d{1,3}){3}$/.test(name);
}

/** An IP address (as bound or resolved, not a name) on the loopback interface. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(bare) === 0) return false;
  const v4 = bare.startsWith("::ffff:") ? bare.slice("::ffff:".length) : bare;
  return /^127(\.\d{1,3}){3}$/.test(v4) || bare === "::1" || bare === "0:0:0:0:0:0:0:1";
}

/** What to listen on for `host`: an IPv6 literal may be written in brackets (`[::1]`), listen takes it bare. */
export function bareHost(host: string): string {
  const bracketed = /^\[(.*)\]$/.exec(host);
  return bracketed ? (bracketed[1] as string) : host;
}

/** The one line for a host name that does not resolve, for the hub (`listen on`) or a channel's own server. */
export function unresolvableHost(host: string, code: string, purpose = "listen on"): string {
  return `cannot resolve the host "${host}" to ${purpose} (${code}): use an address such as 127.0.0.1, or a name this machine resolves`;
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

/**
 * The token a request carries: `Authorization: Bearer …`, or `?token=` where the caller allows
 * it — only the WebSocket upgrade, because browsers cannot set headers there.
 */
export function presentedToken(authorization: string | undefined, queryToken: unknown): string | null {
  // The scheme name is case-insensitive (RFC 7235).
  const bearer = authorization ? /^bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  if (bearer) return (bearer[1] as string).trim();
  return typeof queryToken === "string" ? queryToken : null;
}

/**
 * Compares fixed-length digests, so neither the time taken nor an early length check tells a
 * caller how long the token is or how much of it they guessed.
 */
export function isTokenValid(expected: string | null, presented: string | null): boolean {
  if (expected === null) return true;
  if (presented === null) return false;
  return timingSafeEqual(digest(expected), digest(presented));
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** What a route needs: `public` routes carry their own check (static files, Slack signatures). */
export type RouteAccess = "public" | "token";

/**
 * Whether a request passes the token rule. Decided on the route the router matched (its own
 * path, never the raw URL, whose spelling an attacker picks), and denied by default: a request
 * that matched no public route needs the token like any other.
 */
export function tokenDecision(input: {
  token: string | null;
  access: RouteAccess;
  /** The matched route's path pattern, or undefined when nothing matched. */
  route: string | undefined;
  isUpgrade: boolean;
  authorization: string | undefined;
  queryToken: unknown;
}): boolean {
  if (input.token === null || input.access === "public") return true;
  const queryAllowed = input.isUpgrade && input.route === WEBSOCKET_PATH;
  return isTokenValid(input.token, presentedToken(input.authorization, queryAllowed ? input.queryToken : undefined));
}

export const WEBSOCKET_PATH = "/ws";
