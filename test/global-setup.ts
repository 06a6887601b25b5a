// Before any test: build the hub bundle that `npm start` runs (only when a source is newer), so
// every test that starts the hub as a process runs what a person runs.
import { buildServer } from "../server/build.ts";

export default async function setup(): Promise<void> {
  await buildServer();
}
