// The router's backend choice as a table: health, load, preference, kind and an explicit ask.
import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../server/errors.ts";
import { type Candidate, type ChoiceRequest, chooseBackend, scoreBackend } from "../../server/router/scoring.ts";
import type { HealthStatus } from "../../shared/schemas.ts";

const backend = (name: string, status: HealthStatus, more: Partial<Candidate> = {}): Candidate => ({
  name,
  status,
  queued: 0,
  running: 0,
  concurrency: 1,
  preference: 0,
  ...more,
});

describe("chooseBackend", () => {
  const table: { behaviour: string; request: ChoiceRequest; backend: string; reason: string }[] = [
    {
      behaviour: "warm beats healthy",
      request: { candidates: [backend("claude", "healthy"), backend("codex", "warm")] },
      backend: "codex",
      reason: "codex: warm, queue 0",
    },
    {
      behaviour: "healthy beats cold",
      request: { candidates: [backend("claude", "cold"), backend("ollama", "healthy")] },
      backend: "ollama",
      reason: "ollama: healthy, queue 0",
    },
    {
      behaviour: "a dead backend is never chosen, even preferred and idle",
      request: {
        candidates: [
          backend("claude", "dead", { preference: 50, deadReason: "not installed" }),
          backend("codex", "cold"),
        ],
      },
      backend: "codex",
      reason: "codex: cold, queue 0",
    },
    {
      behaviour: "a long queue lowers a warm backend below an idle healthy one",
      request: { candidates: [backend("claude", "warm", { queued: 3, running: 1 }), backend("codex", "healthy")] },
      backend: "codex",
      reason: "codex: healthy, queue 0",
    },
    {
      behaviour: "one task running does not outweigh warm over healthy",
      request: { candidates: [backend("claude", "warm", { running: 1 }), backend("codex", "healthy")] },
      backend: "claude",
      reason: "claude: warm, queue 0, 1 running",
    },
    {
      behaviour: "more concurrency carries the same queue more lightly",
      request: {
        candidates: [
          backend("claude", "warm", { queued: 4, concurrency: 1 }),
          backend("codex", "warm", { queued: 4, concurrency: 4 }),
        ],
      },
      backend: "codex",
      reason: "codex: warm, queue 4",
    },
    {
      behaviour: "config preference breaks a tie of equal health",
      request: {
        candidates: [backend("claude", "healthy", { preference: 2 }), backend("codex", "healthy", { preference: 1 })],
      },
      backend: "claude",
      reason: "claude: healthy, queue 0",
    },
    {
      behaviour: "preference does not lift a cold backend over a healthy one",
      request: { candidates: [backend("claude", "cold", { preference: 2 }), backend("codex", "healthy")] },
      backend: "codex",
      reason: "codex: healthy, queue 0",
    },
    {
      behaviour: "the task's kind favours the backend config prefers for it",
      request: {
        candidates: [backend("claude", "healthy", { preference: 2 }), backend("codex", "healthy", { preference: 1 })],
        kind: "code",
        kindPreferences: { code: ["codex"] },
      },
      backend: "codex",
      reason: "codex: healthy, queue 0, preferred for code",
    },
    {
      behaviour: "an explicit backend wins over a better one when it is not dead",
      request: {
        candidates: [backend("claude", "warm"), backend("ollama", "cold", { queued: 2 })],
        explicit: "ollama",
      },
      backend: "ollama",
      reason: "ollama: cold, queue 2, as asked",
    },
    {
      behaviour: "an excluded backend (one that failed the task) is passed over",
      request: { candidates: [backend("claude", "warm"), backend("codex", "cold")], exclude: ["claude"] },
      backend: "codex",
      reason: "codex: cold, queue 0",
    },
    {
      behaviour: "a limited backend is never chosen, even warm-preferred and idle",
      request: {
        candidates: [
          backend("claude", "limited", { preference: 50, limitedUntil: "2026-01-01T14:05:00.000Z" }),
          backend("codex", "cold", { queued: 3 }),
        ],
      },
      backend: "codex",
      reason: "codex: cold, queue 3",
    },
    {
      behaviour: "with waitForLimits and nothing usable, the backend whose limit ends first is chosen to wait",
      request: {
        candidates: [
          backend("claude", "limited", { limitedUntil: "2026-01-01T14:05:00.000Z" }),
          backend("codex", "limited", { limitedUntil: "2026-01-01T12:00:00.000Z" }),
          backend("ollama", "dead", { deadReason: "unreachable" }),
        ],
        waitForLimits: true,
      },
      backend: "codex",
      reason: "codex: limited, queue 0, waits until 2026-01-01T12:00:00.000Z",
    },
    {
      behaviour: "with waitForLimits, a usable backend still wins over waiting",
      request: {
        candidates: [
          backend("claude", "limited", { limitedUntil: "2026-01-01T14:05:00.000Z" }),
          backend("codex", "cold"),
        ],
        waitForLimits: true,
      },
      backend: "codex",
      reason: "codex: cold, queue 0",
    },
    {
      behaviour: "equal scores go to the alphabetically first name, whatever the config order",
      request: { candidates: [backend("zeta", "healthy"), backend("alpha", "healthy")] },
      backend: "alpha",
      reason: "alpha: healthy, queue 0",
    },
  ];

  it.each(table)("$behaviour", ({ request, backend: expected, reason }) => {
    const choice = chooseBackend(request);
    expect(choice.backend).toBe(expected);
    expect(choice.reason).toBe(reason);
  });

  const refused = (request: ChoiceRequest): SwitchboardError => {
    try {
      chooseBackend(request);
    } catch (error) {
      expect(error).toBeInstanceOf(SwitchboardError);
      return error as SwitchboardError;
    }
    throw new Error("expected chooseBackend to refuse");
  };

  it("an explicit backend that is dead fails clearly with 409 and the reason", () => {
    const error = refused({
      candidates: [backend("claude", "warm"), backend("codex", "dead", { deadReason: "not logged in" })],
      explicit: "codex",
    });
    expect(error.code).toBe("conflict");
    expect(error.message).toBe(
      'backend codex is dead (not logged in); pick another backend, or leave "backend" out to let the router choose',
    );
  });

  it("an explicit backend that is limited is refused with 409 and the time it is limited until", () => {
    const error = refused({
      candidates: [
        backend("claude", "limited", {
          limitedUntil: "2026-01-01T14:05:00.000Z",
          limitReason: "five-hour limit reached",
        }),
        backend("codex", "warm"),
      ],
      explicit: "claude",
    });
    expect(error.code).toBe("conflict");
    expect(error.status).toBe(409);
    expect(error.message).toBe(
      "backend claude is limited until 2026-01-01T14:05:00.000Z (five-hour limit reached); pick another backend, " +
        'leave "backend" out to let the router choose, or send the task again after that time',
    );
  });

  it("with only limited backends (fallback), the refusal says until when each is limited", () => {
    const error = refused({
      candidates: [backend("claude", "limited", { limitedUntil: "2026-01-01T14:05:00.000Z" })],
    });
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("claude is limited until 2026-01-01T14:05:00.000Z");
  });

  it("an explicit backend that is not configured is invalid input naming the configured ones", () => {
    const error = refused({ candidates: [backend("claude", "warm"), backend("codex", "warm")], explicit: "gemini" });
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe('backend: there is no backend named "gemini"; configured: claude, codex');
  });

  it("when every backend is dead, the error lists each and why", () => {
    const error = refused({
      candidates: [
        backend("claude", "dead", { deadReason: "not installed" }),
        backend("codex", "dead", { deadReason: "timed out" }),
      ],
    });
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("claude is dead (not installed); codex is dead (timed out)");
  });

  it("with no backends configured, the error says where to add one", () => {
    expect(refused({ candidates: [] }).message).toContain("add one under backends in config.json");
  });
});

describe("scoreBackend", () => {
  it("is null for dead and ordered warm > healthy > cold at equal load", () => {
    expect(scoreBackend(backend("a", "dead"))).toBeNull();
    const [warm, healthy, cold] = (["warm", "healthy", "cold"] as const).map((s) => scoreBackend(backend("a", s)));
    expect(warm).toBeGreaterThan(healthy as number);
    expect(healthy).toBeGreaterThan(cold as number);
  });

  it("falls with every task in the queue", () => {
    const scores = [0, 1, 2, 5].map((queued) => scoreBackend(backend("a", "warm", { queued })) as number);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    expect(new Set(scores).size).toBe(4);
  });
});
