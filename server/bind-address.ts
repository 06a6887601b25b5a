// Where the hub may listen: loopback addresses always, anything else only with a token. Decided
// on addresses (as resolved, then as actually bound), never on how the host name looks.
import { isIP } from "node:net";
import { bareHost, isLoopbackAddress, unresolvableHost } from "../shared/access-policy.ts";

/** `host` as it goes in a URL: an IPv6 literal in brackets, anything else as it is. */
export function urlHost(host: string): string {
  const bare = bareHost(host);
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}

/** The addresses `host` stands for, or why there are none (a name that does not resolve). */
export async function resolveBindHost(host: string): Promise<{ addresses: string[] } | { refusal: string }> {
  const bare = bareHost(host);
  if (isIP(bare) !== 0) return { addresses: [bare] };
  try {
    // Loaded only for a name: the usual literal address needs no resolver.
    const { lookup } = await import("node:dns/promises");
    const found = await lookup(bare, { all: true });
    return { addresses: found.map((entry) => entry.address) };
  } catch (error) {
    return { refusal: unresolvableHost(host, (error as NodeJS.ErrnoException).code ?? (error as Error).message) };
  }
}

/** Why listening on these addresses is refused, or null when it is allowed. */
export function checkBoundAddresses(host: string, addresses: string[], token: string | null): string | null {
  if (token || (addresses.length > 0 && addresses.every(isLoopbackAddress))) return null;
  const named = isIP(bareHost(host)) === 0 && addresses.length > 0;
  const where = named ? `${host} (${addresses.join(", ")})` : host;
  return `refusing to listen on ${where} without a token: set SWITCHBOARD_TOKEN, or use host 127.0.0.1`;
}
