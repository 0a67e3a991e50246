import { WorkspaceError } from "./workspace.ts";

/**
 * What a tool may spell as a workspace path, mirroring the file API's rules: a relative POSIX path with no
 * `.`/`..`, empty segments, backslashes or control characters. `.git` is the git layer's, not the agent's.
 * Where the path really leads on disk (symlinks) is checked by the workspace implementation.
 */

const MAX_PATH_CHARS = 1024;
const MAX_SEGMENT_BYTES = 255;

/**
 * Models spell the project root and its files in a few harmless ways: `.`, `./src`, `/workspace/src`
 * (the sandbox path the system prompt mentions). Those become the plain relative form; anything else
 * is left for the checks to judge.
 */
export function canonicalToolPath(input: string): string {
  let path = input.trim();
  if (path === "/workspace" || path === "/workspace/") return "";
  if (path.startsWith("/workspace/")) path = path.slice("/workspace/".length);
  while (path.startsWith("./")) path = path.slice(2);
  if (path === ".") return "";
  return path;
}

export function parseWorkspacePath(input: string, options: { allowRoot?: boolean } = {}): string[] {
  const path = canonicalToolPath(input);
  if (path === "" || path === ".") {
    if (options.allowRoot) return [];
    throw new WorkspaceError("path_invalid", "a file path is required here, not the project root");
  }
  if (path.length > MAX_PATH_CHARS)
    throw new WorkspaceError("path_invalid", `path longer than ${MAX_PATH_CHARS} characters`);
  if (!path.isWellFormed()) throw new WorkspaceError("path_invalid", "path is not well-formed Unicode");
  if (path.startsWith("/")) {
    throw new WorkspaceError(
      "path_invalid",
      `paths are relative to the project root (write "src/a.ts", not "${truncate(path)}")`,
    );
  }
  if (path.includes("\\")) throw new WorkspaceError("path_invalid", "paths use forward slashes only");
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new WorkspaceError("path_invalid", "path contains a control character");
  }
  const segments = path.replace(/\/+$/, "").split("/");
  for (const segment of segments) {
    if (segment === "") throw new WorkspaceError("path_invalid", "path contains an empty segment ('//')");
    const folded = segment.normalize("NFKC");
    if (segment === "." || segment === ".." || /^\.+$/.test(folded) || /[/\\]/.test(folded)) {
      throw new WorkspaceError(
        "path_outside_project",
        "paths must stay inside the project ('..' is not allowed)",
      );
    }
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      throw new WorkspaceError("path_invalid", `path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
  }
  assertNotReserved(segments);
  return segments;
}

/** `.GIT` is `.git` on case-insensitive filesystems (CVE-2014-9390), so compare folded. */
export function assertNotReserved(segments: readonly string[]): void {
  if (segments.some((s) => s.toLowerCase() === ".git")) {
    throw new WorkspaceError(
      "path_reserved",
      ".git is managed by Kiln's git layer; tools cannot read or write it",
    );
  }
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
