// The hub token in the browser: taken once from `?token=` (the address the hub prints at start),
// kept in sessionStorage for this tab, and removed from the address bar and history.
export const TOKEN_STORAGE_KEY = "switchboard.token";

export interface TokenPlaces {
  href: string;
  storage: Pick<Storage, "getItem" | "setItem">;
  /** Replaces the current history entry's address (history.replaceState). */
  replaceAddress(url: string): void;
}

export function takeToken(places: TokenPlaces): string | null {
  const url = new URL(places.href);
  const fromAddress = url.searchParams.get("token");
  if (fromAddress === null) return places.storage.getItem(TOKEN_STORAGE_KEY);
  url.searchParams.delete("token");
  places.replaceAddress(url.pathname + url.search + url.hash);
  if (fromAddress === "") return places.storage.getItem(TOKEN_STORAGE_KEY);
  places.storage.setItem(TOKEN_STORAGE_KEY, fromAddress);
  return fromAddress;
}
