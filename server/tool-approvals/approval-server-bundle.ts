// Where the approval MCP server's bundle lives, and how Claude is told to start it. Its own file,
// so the hub knows the path without importing the build (esbuild) into its bundle.
import { dirname, join } from "node:path";
import { DEFAULT_CONFIG_PATH } from "../config.ts";

/** Built by server/build.ts next to the hub's bundle (`npm start` and the tests build both). */
export const APPROVAL_SERVER_BUNDLE = join(dirname(DEFAULT_CONFIG_PATH), "dist", "approval-mcp-server.mjs");

/** Node running the bundle: the same Node that runs the hub. */
export const approvalServerCommand = () => ({ command: process.execPath, args: [APPROVAL_SERVER_BUNDLE] });
