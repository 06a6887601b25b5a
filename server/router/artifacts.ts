// Where a task's output file goes (inside the artifacts directory, never outside it, by name or
// through a symbolic link) and how it is written: whole or not at all, so a reader never opens
// half an answer, and never through a link at its last component.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, realpath, rename, rm } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { invalidInput } from "../errors.ts";

export interface OutputLocation {
  /** Where the file is written. */
  absolute: string;
  /** What the task shows: relative to the project when inside it ("artifacts/route_x.md"). */
  display: string;
  /** The artifacts directory it must stay in (as configured, before links are followed). */
  artifactsDir: string;
}

const inside = (dir: string, path: string): boolean => {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
};
const insideOrSame = (dir: string, path: string): boolean => path === dir || inside(dir, path);

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
  return { absolute, display, artifactsDir };
}

/** Refused: the output's folder is reached through a symbolic link that leaves the artifacts directory. */
export class OutputOutsideArtifacts extends Error {
  constructor(location: OutputLocation, real: string) {
    super(
      `outputPath ${JSON.stringify(location.display)} leads outside the artifacts directory through a symbolic ` +
        `link (its folder is really ${real}); give a path whose folders stay inside ${location.artifactsDir}`,
    );
    this.name = "OutputOutsideArtifacts";
  }
}

/** The real path of the nearest folder on `path`'s way that exists (`path` itself when it does). */
async function nearestRealFolder(path: string): Promise<string> {
  for (let folder = path; ; folder = dirname(folder)) {
    try {
      return await realpath(folder);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(folder) === folder) throw error;
    }
  }
}

/**
 * Checks, with symbolic links followed, that the output's folder (as far as it exists) is inside
 * the artifacts directory (itself created if missing); throws OutputOutsideArtifacts otherwise.
 */
export async function confineOutput(location: OutputLocation): Promise<void> {
  await mkdir(location.artifactsDir, { recursive: true });
  // Right in the artifacts directory (the default, <taskId>.md): its folder is the root itself.
  if (dirname(location.absolute) === location.artifactsDir) return;
  const root = await realpath(location.artifactsDir);
  const folder = await nearestRealFolder(dirname(location.absolute));
  if (!insideOrSame(root, folder)) throw new OutputOutsideArtifacts(location, folder);
}

/**
 * The intake's check (`POST /api/route`): an outputPath that a symbolic link already takes out
 * of the artifacts directory is a 400 before any task exists.
 */
export async function checkOutputPath(location: OutputLocation): Promise<void> {
  try {
    await confineOutput(location);
  } catch (error) {
    if (error instanceof OutputOutsideArtifacts) throw invalidInput(error.message);
    throw error;
  }
}

/** Create only, never through a link at the last component (O_NOFOLLOW where the system has it). */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * Writes the file through a temporary sibling and a rename, creating its folders if missing. The
 * folders are checked with links followed before and after they are made, so none leads outside
 * the artifacts directory; the temporary file is created new (O_EXCL, O_NOFOLLOW) and the rename
 * replaces a link at the last component instead of writing where it points.
 */
export async function writeOutput(location: OutputLocation, text: string): Promise<void> {
  await confineOutput(location);
  await mkdir(dirname(location.absolute), { recursive: true });
  await confineOutput(location);
  const temporary = `${location.absolute}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const file = await open(temporary, CREATE_NEW, 0o644);
    try {
      await file.writeFile(text, "utf8");
    } finally {
      await file.close();
    }
    await rename(temporary, location.absolute);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
