// Before any test: build what `npm start`, the CLI and the channels run (only when a source is
// newer) — their bundles and the dashboard — and the switchboard/* package, so every test that
// starts an entry point as a process runs what a person runs, and a test of the served dashboard
// never depends on another test file having built it first.
import { buildDashboard } from "../client/dashboard/build.ts";
import { buildPackage } from "../client/package/build.ts";
import { buildBundles } from "../server/build.ts";

export default async function setup(): Promise<void> {
  await buildDashboard();
  await buildBundles();
  await buildPackage();
}
