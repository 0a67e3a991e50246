import { readlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { ARCHIVE_LIMITS, type ArchiveLimits } from "@kiln/protocol";
import { ZipArchive } from "archiver";
import { KilnError } from "../errors/errors.ts";
import { type Dir, openFileForRead, type ProjectRoot } from "../files/project-root.ts";
import { walk } from "../files/walk.ts";

/**
 * A project's files as a zip, read the way artifacts.ts reads build output (the workspace is the tenant's,
 * trust rule): every directory through a verified no-follow descriptor, every file opened
 * O_NOFOLLOW|O_NONBLOCK and checked on its descriptor. Symlinks are stored as symlinks (never followed), and
 * only when their target is relative and stays inside the project; FIFOs, sockets and devices are left out.
 *
 * The plan (names, sizes, limits) is made before the first byte is sent, so a project over the limits is a
 * 413, not a broken download; files are then read one at a time, each capped at its planned size.
 */

export type ExportEntry =
  | { kind: "dir"; path: string }
  | { kind: "file"; path: string; size: number; mode: number; mtime: Date }
  | { kind: "symlink"; path: string; target: string };

export interface ExportPlan {
  entries: ExportEntry[];
  files: number;
  bytes: number;
  /** What was left out and why. */
  skipped: string[];
}

export interface PlanOptions {
  /** Names left out wherever they appear (`node_modules`, `.git`, `.kiln`). */
  excludeAnywhere: readonly string[];
  /** Names left out at the project's root only (build output, the template's ignored directories). */
  excludeAtRoot: readonly string[];
  /** Names left out wherever they appear, by a rule (secrets: `.env*`). */
  excludeMatching?: (name: string) => boolean;
  limits?: Partial<Pick<ArchiveLimits, "entries" | "bytes" | "fileBytes">>;
}

/** A name that would mean something else in a zip (a separator) or in a terminal. */
const unportable = (name: string) =>
  name.includes("\\") || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Whether a symlink at `linkPath` (relative to the root) pointing at `target` stays inside the project. */
export function symlinkStaysInside(linkPath: string, target: string): boolean {
  if (!target || target.includes("\\") || target.includes("\0") || path.posix.isAbsolute(target))
    return false;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), target));
  return resolved !== ".." && !resolved.startsWith("../") && resolved !== ".";
}

export async function planExport(root: ProjectRoot, top: Dir, options: PlanOptions): Promise<ExportPlan> {
  const limits = { ...ARCHIVE_LIMITS, ...options.limits };
  const anywhere = new Set(options.excludeAnywhere);
  const atRoot = new Set(options.excludeAtRoot);
  const entries: ExportEntry[] = [];
  const skipped: string[] = [];
  let files = 0;
  let bytes = 0;
  const leftOut = (entryPath: string, name: string) =>
    anywhere.has(name) ||
    (!entryPath.includes("/") && atRoot.has(name)) ||
    options.excludeMatching?.(name) === true;
  await walk(root, top, {
    skip: (name, entryPath) => leftOut(entryPath, name) || unportable(name),
    visit: async (entry) => {
      if (leftOut(entry.path, entry.name)) return true;
      if (unportable(entry.name)) {
        skipped.push(`${JSON.stringify(entry.path)}: a name with control characters or a backslash`);
        return true;
      }
      if (++files > limits.entries) throw tooLarge(`more than ${limits.entries} files and directories`);
      if (entry.stat.isDirectory()) {
        entries.push({ kind: "dir", path: entry.path });
      } else if (entry.stat.isSymbolicLink()) {
        // readlink never follows; the parent is a verified descriptor's magic link.
        const target = await readlink(entry.parent.child(entry.name)).catch(() => undefined);
        if (target !== undefined && symlinkStaysInside(entry.path, target)) {
          entries.push({ kind: "symlink", path: entry.path, target });
        } else skipped.push(`${entry.path}: a symlink leading outside the project`);
      } else if (entry.stat.isFile()) {
        if (entry.stat.size > limits.fileBytes)
          throw tooLarge(`${entry.path} is larger than ${mib(limits.fileBytes)}`);
        bytes += entry.stat.size;
        if (bytes > limits.bytes) throw tooLarge(`more than ${mib(limits.bytes)}`);
        entries.push({
          kind: "file",
          path: entry.path,
          size: entry.stat.size,
          mode: entry.stat.mode & 0o111 ? 0o755 : 0o644,
          mtime: entry.stat.mtime,
        });
      } else skipped.push(`${entry.path}: not a regular file`);
      return true;
    },
  });
  return { entries, files, bytes, skipped };
}

/** A file added at the zip's root (the history bundle), already opened and checked by the caller. */
export interface ExtraFile {
  name: string;
  stream: Readable;
}

/**
 * Streams `plan` as a zip. Each file is opened only when the archive is ready for it (one descriptor at a
 * time) and read up to its planned size: a file grown since the plan is cut, one gone or replaced by
 * something else fails the download (the zip is then incomplete, and the connection is closed).
 */
export function streamExport(
  root: ProjectRoot,
  plan: ExportPlan,
  extras: ExtraFile[] = [],
  onDone?: () => void,
): ZipArchive {
  const zip = new ZipArchive({ zlib: { level: 6 } });
  const added = (stream?: Readable) =>
    new Promise<void>((resolve, reject) => {
      const settle = () => {
        zip.off("entry", onEntry);
        zip.off("error", onError);
        zip.off("close", onClose);
      };
      const onEntry = () => {
        settle();
        resolve();
      };
      const onError = (err: Error) => {
        settle();
        reject(err);
      };
      // Destroyed when the client goes away: stop reading files.
      const onClose = () => onError(new Error("the download was closed"));
      zip.once("entry", onEntry);
      zip.once("error", onError);
      zip.once("close", onClose);
      stream?.once("error", (err) => zip.destroy(err));
    });
  void (async () => {
    let dir: Dir | undefined;
    try {
      for (const entry of plan.entries) {
        if (entry.kind === "dir") {
          const done = added();
          zip.append(Buffer.alloc(0), { name: `${entry.path}/`, type: "directory", mode: 0o755 });
          await done;
        } else if (entry.kind === "symlink") {
          const done = added();
          zip.symlink(entry.path, entry.target, 0o777);
          await done;
        } else {
          const parent = parentSegments(entry.path);
          if (!dir || dir.segments.join("/") !== parent.join("/")) {
            await dir?.close();
            dir = undefined;
            dir = await root.openDir(parent);
          }
          const name = entry.path.slice(entry.path.lastIndexOf("/") + 1);
          const handle = await openFileForRead(dir, name, entry.path);
          const source =
            entry.size === 0
              ? undefined
              : handle.createReadStream({ start: 0, end: entry.size - 1, autoClose: false });
          try {
            const done = added(source);
            zip.append(source ?? Buffer.alloc(0), { name: entry.path, mode: entry.mode, date: entry.mtime });
            await done;
          } finally {
            source?.destroy();
            await handle.close();
          }
        }
      }
      for (const extra of extras) {
        const done = added(extra.stream);
        zip.append(extra.stream, { name: extra.name, mode: 0o644 });
        await done;
      }
      await zip.finalize();
    } catch (err) {
      zip.destroy(err as Error);
    } finally {
      await dir?.close();
      onDone?.();
    }
  })();
  return zip;
}

function parentSegments(entryPath: string): string[] {
  const slash = entryPath.lastIndexOf("/");
  return slash < 0 ? [] : entryPath.slice(0, slash).split("/");
}

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

function tooLarge(what: string): KilnError {
  return new KilnError("payload_too_large", `the project is too large to export: ${what}`);
}
