// Vite build of the dashboard: client/dashboard/index.html and its TypeScript into dist/dashboard.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export const DASHBOARD_SOURCE_DIR = fileURLToPath(new URL(".", import.meta.url));
export const DASHBOARD_OUT_DIR = fileURLToPath(new URL("../../dist/dashboard/", import.meta.url));

export default defineConfig({
  root: DASHBOARD_SOURCE_DIR,
  base: "./",
  logLevel: "warn",
  build: {
    outDir: DASHBOARD_OUT_DIR,
    emptyOutDir: true,
    target: "es2022",
    // Small app: one script, one stylesheet, nothing inlined (the page's CSP allows only 'self').
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
