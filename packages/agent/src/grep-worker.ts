import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { globToRegExp } from "./glob.ts";
import type { GrepJob } from "./grep.ts";
import type { GrepMatch } from "./workspace.ts";

/**
 * Runs in a worker thread (see grep.ts). Walks with directory descriptors opened O_NOFOLLOW (through
 * /proc/self/fd, like openat), so a directory swapped for a symlink mid-search is skipped, not followed.
 * Skips .git, node_modules, binary files and files over 1 MiB.
 */

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_LINE_CHARS = 300;
const SKIPPED = new Set([".git", "node_modules"]);
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const PROC = existsSync("/proc/self/fd");

const job = workerData as GrepJob;
const regex = new RegExp(job.pattern, job.ignoreCase ? "i" : "");
const glob = job.glob ? globToRegExp(job.glob) : undefined;
const matches: GrepMatch[] = [];
let truncated = false;

/** A path to `name` inside the directory open as `dirFd` (or below `dirPath` without /proc). */
function inside(dir: { fd: number; path: string }, name: string): string {
  return PROC ? `/proc/self/fd/${dir.fd}/${name}` : `${dir.path}/${name}`;
}

function searchFile(fd: number, rel: string): void {
  const stat = fstatSync(fd);
  if (stat.size > MAX_FILE_BYTES) return;
  const buffer = Buffer.alloc(stat.size);
  let read = 0;
  while (read < stat.size) {
    const n = readSync(fd, buffer, read, stat.size - read, read);
    if (n === 0) break;
    read += n;
  }
  if (buffer.subarray(0, 8192).includes(0)) return;
  const lines = buffer.toString("utf8", 0, read).split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!regex.test(lines[i]!)) continue;
    if (matches.length >= job.limit) {
      truncated = true;
      return;
    }
    const line = lines[i]!.replace(/\r$/, "");
    matches.push({
      path: rel,
      line: i + 1,
      text: line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line,
    });
  }
}

function walk(dir: { fd: number; path: string }, rel: string): void {
  let names: string[];
  try {
    names = readdirSync(PROC ? `/proc/self/fd/${dir.fd}` : dir.path).sort();
  } catch {
    return;
  }
  for (const name of names) {
    if (truncated) return;
    if (SKIPPED.has(name.toLowerCase())) continue;
    visit(inside(dir, name), `${dir.path}/${name}`, rel ? `${rel}/${name}` : name);
  }
}

/** Opens without following a link; a directory is walked, a regular file searched, anything else skipped. */
function visit(openPath: string, hostPath: string, rel: string): void {
  let fd: number;
  try {
    fd = openSync(openPath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch {
    return;
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) walk({ fd, path: hostPath }, rel);
    else if (stat.isFile() && (!glob || glob.test(rel))) searchFile(fd, rel);
  } finally {
    closeSync(fd);
  }
}

try {
  let dir = { fd: openSync(job.root, O_RDONLY | O_DIRECTORY), path: job.root };
  const segments = job.start ? job.start.split("/") : [];
  const last = segments.pop();
  for (const segment of segments) {
    const fd = openSync(inside(dir, segment), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    closeSync(dir.fd);
    dir = { fd, path: `${dir.path}/${segment}` };
  }
  if (last === undefined) walk(dir, "");
  else visit(inside(dir, last), `${dir.path}/${last}`, job.start);
  closeSync(dir.fd);
  parentPort?.postMessage({ matches, truncated });
} catch (err) {
  parentPort?.postMessage({ error: (err as Error).message });
}
