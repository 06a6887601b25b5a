#!/usr/bin/env node
// The `switchboard` command (package.json bin): runs the TypeScript CLI through tsx, so it works right after npm ci, without a build.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
