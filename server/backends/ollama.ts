// A local Ollama server over HTTP (undici): `GET /api/tags` proves it is up, `GET /api/ps` says
// which models are in memory, `POST /api/generate` with no prompt loads a model (pre-warm), and
// `POST /api/chat` with the conversation's messages streams the answer as NDJSON chunks (dispatch).
import type { Clock } from "../../shared/clock.ts";
import type { Usage } from "../../shared/schemas.ts";
import { type BackendDeps, BackendFailure, type BackendKind, type WarmSession } from "./backend.ts";
import { type BackendSettings, DEFAULT_OLLAMA_MODEL, DEFAULT_OLLAMA_URL } from "./settings.ts";
import { ollamaUsage } from "./stream-events.ts";

const urlOf = (settings: BackendSettings, path: string) =>
  new URL(path, (settings.url ?? DEFAULT_OLLAMA_URL).replace(/\/?$/, "/")).toString();
const modelOf = (settings: BackendSettings) => settings.model ?? DEFAULT_OLLAMA_MODEL;

type Body = Awaited<ReturnType<typeof import("undici").request>>["body"];

/**
 * One HTTP call with a deadline on the injected clock and an optional caller's abort; network
 * failures become person-facing reasons ("unreachable", "timed out", "cancelled").
 */
async function call<T>(
  clock: Clock,
  options: { url: string; method: "GET" | "POST"; body?: unknown; timeoutMs: number; signal?: AbortSignal },
  read: (body: Body, status: number) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let why: "timed out" | "cancelled" | null = null;
  const timer = clock.setTimeout(() => {
    why = "timed out";
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => {
    why = "cancelled";
    controller.abort();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    // Loaded on the first request: a hub without Ollama never evaluates undici. Through its
    // default export: in the bundle a CommonJS package imported on demand is a chunk whose only
    // export is `default` (module.exports), as it is under Node too.
    const { request } = (await import("undici")).default;
    const response = await request(options.url, {
      method: options.method,
      signal: controller.signal,
      ...(options.body === undefined
        ? {}
        : { body: JSON.stringify(options.body), headers: { "content-type": "application/json" } }),
    });
    if (response.statusCode >= 400) {
      const text = (await response.body.text()).slice(0, 300);
      throw new BackendFailure(`unexpected response (HTTP ${response.statusCode})`, text);
    }
    return await read(response.body, response.statusCode);
  } catch (error) {
    if (why) throw new BackendFailure(why);
    if (error instanceof BackendFailure) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
    throw new BackendFailure("unreachable", `${options.url}: ${code ?? (error as Error).message}`);
  } finally {
    clock.clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

async function json(body: Body): Promise<Record<string, unknown>> {
  const value: unknown = await body.json();
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

/** The model names of an /api/tags or /api/ps answer (`name`, or `model` when a server sends only that). */
function modelNames(answer: Record<string, unknown>): string[] {
  const models = Array.isArray(answer.models) ? answer.models : [];
  return models
    .map((m) => (m as { name?: unknown; model?: unknown } | null)?.name ?? (m as { model?: unknown } | null)?.model)
    .filter((name): name is string => typeof name === "string");
}

/** Whether `model` is among the pulled ones; a name without a tag means `:latest`, as Ollama reads it. */
export function isModelPulled(pulled: string[], model: string): boolean {
  const withTag = (name: string) => (name.includes(":") ? name : `${name}:latest`);
  return pulled.some((name) => withTag(name) === withTag(model));
}

export const ollamaBackend: BackendKind<BackendSettings> = {
  kind: "ollama",
  keepsConversation: false,

  async ping(settings, deps, { timeoutMs, signal }) {
    const deadline = deps.clock.now() + timeoutMs;
    const left = () => Math.max(1, deadline - deps.clock.now());
    try {
      const tags = await call(
        deps.clock,
        { url: urlOf(settings, "api/tags"), method: "GET", timeoutMs: left(), ...(signal ? { signal } : {}) },
        json,
      );
      // Up but without the model: every task sent here would fail, so the backend is dead.
      const model = modelOf(settings);
      if (!isModelPulled(modelNames(tags), model)) return { ok: false, reason: `model ${model} not pulled` };
      const running = await call(
        deps.clock,
        { url: urlOf(settings, "api/ps"), method: "GET", timeoutMs: left(), ...(signal ? { signal } : {}) },
        json,
      );
      const loadedModels = modelNames(running).slice(0, 50);
      return { ok: true, version: null, authMethod: null, loadedModels };
    } catch (error) {
      if (error instanceof BackendFailure) return { ok: false, reason: error.reason };
      throw error;
    }
  },

  prewarm(settings, deps, { id, ttlMs }): WarmSession {
    // Ollama keeps the model for `keep_alive` and then unloads it by itself; ending the session
    // early only abandons a load still in flight.
    const controller = new AbortController();
    let endSession: () => void = () => {};
    const exited = new Promise<void>((resolve) => {
      endSession = resolve;
    });
    const keepAlive = `${Math.ceil((ttlMs ?? 300_000) / 1000)}s`;
    const ready = call(
      deps.clock,
      {
        url: urlOf(settings, "api/generate"),
        method: "POST",
        body: { model: modelOf(settings), keep_alive: keepAlive },
        timeoutMs: ttlMs ?? 300_000,
        signal: controller.signal,
      },
      async (body) => {
        await body.dump();
      },
    );
    ready.catch(() => endSession());
    return {
      id,
      pid: null,
      ready,
      exited,
      kill() {
        controller.abort();
        endSession();
      },
    };
  },

  async dispatch(settings, deps: BackendDeps, requestOptions) {
    let usage: Usage | null = null;
    // The conversation is the hub's: every turn sends the earlier ones (bounded by the router).
    const messages = [...(requestOptions.history ?? []), { role: "user", content: requestOptions.prompt }];
    const output = await call(
      deps.clock,
      {
        url: urlOf(settings, "api/chat"),
        method: "POST",
        body: { model: modelOf(settings), messages, stream: true },
        timeoutMs: requestOptions.timeoutMs,
        signal: requestOptions.signal,
      },
      async (body) => {
        const parts: string[] = [];
        // Loaded with the first answer: the hub starts without readline.
        const { createInterface } = await import("node:readline");
        for await (const line of createInterface({ input: body, crlfDelay: Number.POSITIVE_INFINITY })) {
          if (!line.trim()) continue;
          let chunk: { message?: { content?: unknown }; done?: unknown; error?: unknown };
          try {
            chunk = JSON.parse(line);
          } catch {
            throw new BackendFailure("failed", `ollama sent a line that is not JSON: ${line.slice(0, 100)}`);
          }
          if (typeof chunk.error === "string") throw new BackendFailure("failed", `ollama: ${chunk.error}`);
          const text = chunk.message?.content;
          if (typeof text === "string" && text) {
            parts.push(text);
            requestOptions.onOutput(text);
          }
          if (chunk.done === true) {
            usage = ollamaUsage(chunk);
            return parts.join("");
          }
        }
        throw new BackendFailure("failed", "ollama ended the stream before it was done");
      },
    );
    // A warm "session" for Ollama is the loaded model: nothing is left to end.
    requestOptions.session?.kill();
    return { output, usage };
  },
};
