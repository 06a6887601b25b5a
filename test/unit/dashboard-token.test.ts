// The dashboard's token handling: taken from ?token= once, kept for the tab, dropped from the address.
import { describe, expect, test } from "vitest";
import { TOKEN_STORAGE_KEY, takeToken } from "../../client/dashboard/token.ts";

function places(href: string, stored: string | null = null) {
  const storage = new Map<string, string>();
  if (stored !== null) storage.set(TOKEN_STORAGE_KEY, stored);
  const replaced: string[] = [];
  return {
    storage,
    replaced,
    places: {
      href,
      storage: {
        getItem: (key: string) => storage.get(key) ?? null,
        setItem: (key: string, value: string) => void storage.set(key, value),
      },
      replaceAddress: (url: string) => void replaced.push(url),
    },
  };
}

describe("takeToken", () => {
  test("takes the token from the address, stores it and removes it from the address bar", () => {
    const p = places("http://127.0.0.1:7433/?token=abc&view=compact#queue");
    expect(takeToken(p.places)).toBe("abc");
    expect(p.storage.get(TOKEN_STORAGE_KEY)).toBe("abc");
    expect(p.replaced).toEqual(["/?view=compact#queue"]);
  });

  test("uses the stored token when the address has none, and leaves the address alone", () => {
    const p = places("http://127.0.0.1:7433/", "kept");
    expect(takeToken(p.places)).toBe("kept");
    expect(p.replaced).toEqual([]);
  });

  test("a token in the address replaces an older stored one", () => {
    const p = places("http://127.0.0.1:7433/?token=new", "old");
    expect(takeToken(p.places)).toBe("new");
    expect(p.storage.get(TOKEN_STORAGE_KEY)).toBe("new");
  });

  test("no token anywhere is null", () => {
    expect(takeToken(places("http://127.0.0.1:7433/").places)).toBeNull();
  });
});
