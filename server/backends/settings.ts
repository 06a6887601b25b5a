// What config.json says about one backend: its kind and how to reach it. Shared by the config
// schema and the backend modules, so both agree on every field and default.
import * as z from "zod";

export const BACKEND_KINDS = ["claude", "codex", "ollama"] as const;
export type BackendKindName = (typeof BACKEND_KINDS)[number];

export const backendSettingsSchema = z.strictObject({
  kind: z.enum(BACKEND_KINDS, { error: `must be one of ${BACKEND_KINDS.join(", ")}` }),
  /** The CLI to run (a name looked up on PATH, or a path); defaults to the kind's own name. */
  command: z.string({ error: "must be a command name or path" }).min(1, { error: "must not be empty" }).optional(),
  /** Extra arguments added to every prewarm and dispatch command line (e.g. ["--model", "sonnet"]). */
  args: z.array(z.string({ error: "must be a list of strings" }), { error: "must be a list of strings" }).default([]),
  /** Ollama's base URL. */
  url: z.url({ error: "must be a URL such as http://localhost:11434" }).optional(),
  /** The model: Ollama's model name; for the CLIs, passed as --model when set. */
  model: z.string({ error: "must be a model name" }).min(1, { error: "must not be empty" }).optional(),
  enabled: z.boolean({ error: "must be true or false" }).default(true),
  /**
   * Variables of the hub's environment passed to this backend on purpose, beyond the few every CLI
   * gets (PATH, HOME, locale, proxies, ANTHROPIC_*, OPENAI_*, …). The hub's own secrets never are.
   */
  env: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be a list of environment variable names" }), {
      error: "must be a list of environment variable names",
    })
    .default([]),
  /** Higher is preferred by the router when several backends could take a task. */
  preference: z.number({ error: "must be a number" }).int({ error: "must be an integer" }).default(0),
});
export type BackendSettings = z.infer<typeof backendSettingsSchema>;

export const DEFAULT_OLLAMA_URL = "http://localhost:11434";
export const DEFAULT_OLLAMA_MODEL = "llama3.2";

/** The three backends a fresh install knows. */
export const DEFAULT_BACKENDS = {
  claude: { kind: "claude", preference: 2 },
  codex: { kind: "codex", preference: 1 },
  ollama: { kind: "ollama", url: DEFAULT_OLLAMA_URL },
} as const;
