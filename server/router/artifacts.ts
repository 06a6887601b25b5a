// Where a task's output file goes (inside the artifacts directory, never outside it) and how it
// is written: whole or not at all, so a reader never opens half an answer.
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { invalidInput } from "../errors.ts";

export interface OutputLocation {
  /** Where the file is written. */
  absolute: string;
  /** What the task shows: relative to the project when inside it ("artifacts/route_x.md"). */
  display: string;
}

const inside = (dir: string, path: string): boolean => {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
};

/**
 * Resolves a requested output path. A relative path is taken inside the artifacts directory
 * ("trust.md", "reports/trust.md"), or from the project when it already names that directory
 * ("artifacts/trust.md"). Anything that would land outside it is refused.
 */
export function resolveOutputPath(options: {
  artifactsDir: string;
  projectRoot: string;
  taskId: string;
  requested?: string | undefined;
}): OutputLocation {
  const artifactsDir = resolve(options.projectRoot, options.artifactsDir);
  const requested = options.requested ?? `${options.taskId}.md`;
  const refuse = (why: string) =>
    invalidInput(
      `outputPath: ${why} (got ${JSON.stringify(requested)}); give a relative path such as "reports/trust.md", ` +
        `which is written inside ${artifactsDir}`,
    );
  if (requested.includes("\0")) throw refuse("must not contain a NUL character");
  // An absolute path is accepted only inside the directory (a task recovered after a restart).
  if (isAbsolute(requested) && !inside(artifactsDir, requested)) {
    throw refuse("must be relative to the artifacts directory");
  }
  const fromProject = resolve(options.projectRoot, requested);
  const absolute = inside(artifactsDir, fromProject) ? fromProject : resolve(artifactsDir, requested);
  if (!inside(artifactsDir, absolute)) throw refuse("must stay inside the artifacts directory");
  if (requested.endsWith("/") || requested.endsWith(sep)) throw refuse("must name a file, not a directory");
  const fromRoot = relative(options.projectRoot, absolute);
  const display = inside(options.projectRoot, absolute) ? fromRoot.split(sep).join("/") : absolute;
  return { absolute, display };
}

/** Writes the file through a temporary sibling and a rename, creating its directory if missing. */
export async function writeOutput(location: OutputLocation, text: string): Promise<void> {
  await mkdir(dirname(location.absolute), { recursive: true });
  const temporary = `${location.absolute}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, text, "utf8");
    await rename(temporary, location.absolute);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
