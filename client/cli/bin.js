#!/usr/bin/env node
// The `switchboard` command (package.json bin): runs the CLI's bundle, dist/cli.mjs, built (or rebuilt) from the sources when they are newer.
import { launch } from "../launch.js";

await launch("cli");
