import path from "node:path";
import { MAX_PATH_LENGTH } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";

/**
 * The first half of the file API's security boundary: what a client may spell as a path. The second half,
 * where that path really leads on disk, is project-root.ts.
 */

const MAX_SEGMENT_BYTES = 255; // NAME_MAX on Linux filesystems

export class PathError extends KilnError {
  constructor(message: string, details?: unknown) {
    super("path_invalid", message, { details });
  }
}

/**
 * Splits a client path into checked segments. `""` is the project root (only when `allowRoot`); everything
 * else must be a relative POSIX path without `.`/`..`, empty segments, backslashes, NUL or control characters.
 * Nothing is percent-decoded here: `%2e%2e` is a literal (odd, harmless) file name.
 */
export function parsePath(input: string, options: { allowRoot?: boolean } = {}): string[] {
  if (input === "") {
    if (options.allowRoot) return [];
    throw new PathError("the project root cannot be the target of this operation");
  }
  if (input.length > MAX_PATH_LENGTH || Buffer.byteLength(input) > MAX_PATH_LENGTH * 4) {
    throw new PathError(`path longer than ${MAX_PATH_LENGTH} characters`);
  }
  if (!input.isWellFormed()) throw new PathError("path is not well-formed Unicode");
  if (input.startsWith("/")) throw new PathError("path must be relative to the project root");
  if (input.includes("\\")) throw new PathError("path must use forward slashes only");
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new PathError("path must not contain control characters or NUL");
  }
  const segments = input.split("/");
  for (const segment of segments) {
    if (segment === "") throw new PathError("path must not contain empty segments ('//' or a trailing '/')");
    if (segment === "." || segment === "..") throw new PathError("path must not contain '.' or '..'");
    // Compatibility forms (fullwidth '．．', one-dot leaders, fullwidth solidus) become '.', '..' or '/'
    // under NFKC; some tool down the line (an archiver, another filesystem) may normalise, so refuse them.
    const folded = segment.normalize("NFKC");
    if (folded === "." || folded === ".." || /[/\\]/.test(folded) || /^\.+$/.test(folded)) {
      throw new PathError("path segment looks like '.', '..' or a slash");
    }
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      throw new PathError(`path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
  }
  return segments;
}

export function joinSegments(segments: readonly string[]): string {
  return segments.join("/");
}

/**
 * `.git` internals hold hooks (code git runs), config (remote URLs, possibly credentials) and objects that
 * must stay consistent: the file API neither writes nor reads them; the git layer owns them. Compared
 * case-insensitively because `.GIT` is `.git` on case-insensitive filesystems (CVE-2014-9390).
 */
export function isReserved(segments: readonly string[]): boolean {
  return segments.some((s) => s.toLowerCase() === ".git");
}

export function assertNotReserved(segments: readonly string[]): void {
  if (isReserved(segments)) {
    throw new KilnError("path_reserved", ".git is managed by Kiln's git layer, not the file API");
  }
}

/** True when `candidate` (absolute, canonical) is `root` or lies below it. */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const rel = path.relative(root, candidate);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Segments of a canonical path inside root, relative to it. */
export function segmentsBelow(root: string, candidate: string): string[] {
  const rel = path.relative(root, candidate);
  return rel === "" ? [] : rel.split(path.sep);
}

/** A `*`/`?` glob (no path separators, no character classes) as an anchored RegExp. */
export function globToRegExp(glob: string, caseSensitive: boolean): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${body}$`, caseSensitive ? "" : "i");
}
