// How `npm start` is told what to do beyond config.json: the command line (--config, --port,
// --host, --data-dir override the file) and the secrets, which come only from the environment.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { hubTokenFrom } from "../shared/defaults.ts";
import { type Config, ConfigError, DEFAULT_CONFIG_PATH, loadConfigFile } from "./config.ts";

export interface StartOptions {
  configPath: string;
  port?: number;
  host?: string;
  dataDir?: string;
}

/** Reads `--config FILE --port N --host H --data-dir DIR`; bad usage is a ConfigError. */
export function parseStartArgs(argv: string[]): StartOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "data-dir": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError(
      `${(error as Error).message}. Usage: npm start -- [--config FILE] [--port N] [--host H] [--data-dir DIR]`,
    );
  }
  const options: StartOptions = { configPath: resolve(String(values.config ?? DEFAULT_CONFIG_PATH)) };
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError(`--port must be a port number from 0 to 65535 (got ${JSON.stringify(values.port)})`);
    }
    options.port = port;
  }
  if (values.host !== undefined) options.host = String(values.host);
  if (values["data-dir"] !== undefined) options.dataDir = resolve(String(values["data-dir"]));
  return options;
}

export async function resolveConfig(options: StartOptions): Promise<Config> {
  const config = await loadConfigFile(options.configPath);
  return {
    ...config,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
  };
}

export interface Secrets {
  /** Guards REST and WebSocket when set. */
  token: string | null;
}

export function readSecrets(env: NodeJS.ProcessEnv = process.env): Secrets {
  return { token: hubTokenFrom(env) };
}
