// What a backend process sees of the hub's environment: only what a CLI needs to run (PATH, home,
// locale, proxies, its own vendor's settings) and what `backends.<name>.env` passes on purpose —
// never the hub's own secrets. Pure decisions over an environment object; the spawner applies them.
import { delimiter } from "node:path";

/** The hub's own secrets: never given to a backend, even when a pass-list names them. */
export const HUB_SECRETS: readonly string[] = [
  "SWITCHBOARD_TOKEN",
  "TELEGRAM_BOT_TOKEN",
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
];

/** Variables every backend gets from the hub's environment when set. */
const PASSED_NAMES = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TERM",
  "COLORTERM",
  "NO_COLOR",
  "TZ",
  "TMPDIR",
  "TMP",
  "TEMP",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  // Windows needs these to start anything at all.
  "SYSTEMROOT",
  "SYSTEMDRIVE",
  "COMSPEC",
  "PATHEXT",
  "APPDATA",
  "LOCALAPPDATA",
  "USERPROFILE",
]);

/** Prefixes of variables every backend gets: locale, XDG folders, and the backends' own vendors. */
const PASSED_PREFIXES = ["LC_", "XDG_", "ANTHROPIC_", "CLAUDE_", "OPENAI_", "CODEX_", "OLLAMA_"];

/** A variable the hub holds for itself: one of its secrets, or any SWITCHBOARD_ setting. */
export function isHubOwn(name: string): boolean {
  return HUB_SECRETS.includes(name) || name.startsWith("SWITCHBOARD_");
}

function isPassedByDefault(name: string): boolean {
  return PASSED_NAMES.has(name) || PASSED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/**
 * The environment a backend process gets: from `hubEnv`, the variables every CLI needs and those
 * `pass` names; then `extra` (an embedder's or a test's environment, on purpose); `searchPath`
 * before PATH. The hub's own variables are never in it.
 */
export function backendEnvironment(input: {
  hubEnv: NodeJS.ProcessEnv;
  pass?: readonly string[];
  extra?: NodeJS.ProcessEnv;
  searchPath?: readonly string[];
}): NodeJS.ProcessEnv {
  const pass = new Set(input.pass ?? []);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(input.hubEnv)) {
    if (value !== undefined && (isPassedByDefault(name) || pass.has(name))) env[name] = value;
  }
  Object.assign(env, input.extra ?? {});
  for (const name of Object.keys(env)) if (isHubOwn(name)) delete env[name];
  const basePath = env.PATH ?? "";
  const path = [...(input.searchPath ?? []), basePath].filter(Boolean).join(delimiter);
  if (path) env.PATH = path;
  return env;
}

/**
 * One backend's environment: `base` (the warm standby's, from `backendEnvironment`) plus the
 * variables its `backends.<name>.env` passes on purpose from the hub's environment.
 */
export function environmentFor(
  base: NodeJS.ProcessEnv | undefined,
  pass: readonly string[],
  hubEnv: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env = { ...(base ?? backendEnvironment({ hubEnv })) };
  for (const name of pass) {
    const value = hubEnv[name];
    if (value !== undefined && !isHubOwn(name)) env[name] = value;
  }
  return env;
}
