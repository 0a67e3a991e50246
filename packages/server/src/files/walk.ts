import type { Stats } from "node:fs";
import { readdir } from "node:fs/promises";
import { type Dir, lstatOrUndefined, type ProjectRoot } from "./project-root.ts";

export interface WalkEntry {
  /** Relative to the project root. */
  path: string;
  name: string;
  stat: Stats;
  /** The entry's parent, a verified directory. */
  parent: Dir;
}

export interface WalkOptions {
  /** Directories not to descend into (they are still visited); `path` is relative to the project root. */
  skip(name: string, path: string): boolean;
  /** Return false to stop the walk. */
  visit(entry: WalkEntry): Promise<boolean> | boolean;
}

/**
 * Depth-first walk below `dir`, names sorted. Symlinks are visited as entries and never followed; every
 * directory is entered through a verified no-follow descriptor (project-root.ts). Returns false if stopped.
 */
export async function walk(root: ProjectRoot, dir: Dir, options: WalkOptions): Promise<boolean> {
  const names = (await readdir(dir.path)).sort();
  const prefix = dir.segments.join("/");
  for (const name of names) {
    const stat = await lstatOrUndefined(dir.child(name));
    if (!stat) continue; // removed while we looked
    const entry = { path: prefix ? `${prefix}/${name}` : name, name, stat, parent: dir };
    if (!(await options.visit(entry))) return false;
    if (!stat.isDirectory() || options.skip(name, entry.path)) continue;
    let child: Dir;
    try {
      child = await root.openChildDir(dir, name);
    } catch {
      continue; // vanished, or swapped for a symlink since the lstat: not ours to follow
    }
    try {
      if (!(await walk(root, child, options))) return false;
    } finally {
      await child.close();
    }
  }
  return true;
}
