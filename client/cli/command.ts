// What every `switchboard` command is and gets: its table entry (usage, options, positionals, run),
// the context it runs in (parsed arguments, hub client, output), and the usage error it may throw.
import type { HubClient } from "../hub-client.ts";

/** Where a command writes, and what it knows of its surroundings; injected so tests can capture it. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** Resolves when the person asks to stop (Ctrl-C); only `watch` waits on it. */
  interrupted: Promise<void>;
}

/** Bad usage: printed with the command's help, exit status 2. */
export class UsageError extends Error {}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** What a command gets: its parsed options, positionals, the hub client and how to print. */
export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  client: HubClient;
  hubUrl: string;
  json: boolean;
  io: CliIO;
  print(text: string, json: unknown): void;
}

type OptionSpec = { type: "string" | "boolean"; multiple?: boolean; short?: string };

/** One row of the command table. */
export interface Command {
  usage: string;
  summary: string;
  /** Lines after the usage in --help. */
  details?: string[];
  options?: Record<string, OptionSpec>;
  positionals: { min: number; max: number };
  run(ctx: CommandContext): Promise<number>;
}
