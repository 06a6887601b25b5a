// The backend kinds by name: config.json's `kind` picks one. A new kind adds its module here (see
// backend.ts for all it takes).
import type { BackendKind } from "./backend.ts";
import { claudeBackend } from "./claude.ts";
import { codexBackend } from "./codex.ts";
import { ollamaBackend } from "./ollama.ts";
import type { BackendKindName, BackendSettings } from "./settings.ts";

export const backendKinds: Record<BackendKindName, BackendKind<BackendSettings>> = {
  claude: claudeBackend,
  codex: codexBackend,
  ollama: ollamaBackend,
};

export function backendKindOf(settings: BackendSettings): BackendKind<BackendSettings> {
  return backendKinds[settings.kind];
}
