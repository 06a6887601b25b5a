// Before any test: build what `npm start` runs (only when a source is newer) — the hub bundle and
// the dashboard — so every test that starts the hub as a process runs what a person runs, and a
// test of the served dashboard never depends on another test file having built it first.
import { buildDashboard } from "../client/dashboard/build.ts";
import { buildServer } from "../server/build.ts";

export default async function setup(): Promise<void> {
  await buildDashboard();
  await buildServer();
}
