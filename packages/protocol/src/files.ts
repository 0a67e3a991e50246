import { z } from "zod";
import { Timestamp } from "./common.ts";

/**
 * Project files, as the editor and the agent see them. Paths are relative POSIX paths inside the project
 * (`src/app.tsx`); the empty string is the project root. The server checks them again (files/paths.ts):
 * the schema only bounds their size.
 */

export const MAX_PATH_LENGTH = 1024;
/** Upper bound of a write's `content` in characters; the configured file size cap is checked on the bytes. */
export const MAX_CONTENT_CHARS = 16 * 1024 * 1024;

export const FilePath = z
  .string()
  .min(1)
  .max(MAX_PATH_LENGTH)
  .describe("Relative POSIX path inside the project, e.g. `src/main.ts`");
/** Like FilePath, but the empty string (the project root) is allowed. */
export const DirPath = z
  .string()
  .max(MAX_PATH_LENGTH)
  .describe("Relative POSIX path of a directory inside the project; empty for the root");

/** A file's content version: the SHA-256 of its bytes, so it changes exactly when the content does. */
export const FileVersion = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .describe("SHA-256 (hex) of the file's bytes, as returned by read and write");

export const FileEncoding = z.enum(["utf8", "base64"]);
export type FileEncoding = z.infer<typeof FileEncoding>;

export const FileType = z.enum(["file", "directory", "symlink", "other"]);
export type FileType = z.infer<typeof FileType>;

// Query strings carry text only; "false" must mean false (z.coerce.boolean would make it true).
export const QueryBool = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1")
  .describe("true | false");
const QueryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const FileTreeQuery = z.strictObject({
  path: DirPath.optional().describe("Directory to list; the project root when absent"),
  includeIgnored: QueryBool.optional().describe("Also descend into .git and node_modules (default false)"),
  maxEntries: QueryInt(1, 20_000).optional().describe("Stop after this many entries (default 5000)"),
});
export type FileTreeQuery = z.infer<typeof FileTreeQuery>;

export const FileEntry = z
  .object({
    path: z.string().describe("Relative path from the project root"),
    type: FileType.describe("Symlinks are listed, never followed"),
    size: z.number().int().describe("Bytes (lstat)"),
    mtime: Timestamp,
  })
  .meta({ id: "FileEntry" });
export type FileEntry = z.infer<typeof FileEntry>;

export const FileTree = z
  .object({
    path: z.string(),
    entries: z.array(FileEntry).describe("Depth-first, each directory's entries sorted by name"),
    truncated: z.boolean().describe("True when maxEntries was reached before the walk ended"),
  })
  .meta({ id: "FileTree" });
export type FileTree = z.infer<typeof FileTree>;

export const ReadFileQuery = z.strictObject({
  path: FilePath,
  encoding: z
    .enum(["auto", "utf8", "base64"])
    .optional()
    .describe("auto (default): utf8 for text, base64 for binary; utf8 refuses binary files (file_binary)"),
  startLine: QueryInt(1, 10_000_000).optional().describe("First line to return (1-based, text only)"),
  endLine: QueryInt(1, 10_000_000).optional().describe("Last line to return (inclusive, text only)"),
});
export type ReadFileQuery = z.infer<typeof ReadFileQuery>;

export const FileContent = z
  .object({
    path: z.string(),
    encoding: FileEncoding,
    content: z.string(),
    size: z.number().int().describe("Size of the whole file in bytes"),
    mtime: Timestamp,
    version: FileVersion,
    totalLines: z.number().int().optional().describe("Lines in the whole file (text only)"),
    startLine: z.number().int().optional(),
    endLine: z.number().int().optional(),
  })
  .meta({ id: "FileContent" });
export type FileContent = z.infer<typeof FileContent>;

export const WriteFileBody = z.strictObject({
  path: FilePath,
  content: z.string().max(MAX_CONTENT_CHARS).describe("The whole new content"),
  encoding: FileEncoding.default("utf8").describe("How `content` is encoded"),
  createParents: z.boolean().default(false).describe("Create missing parent directories"),
  expectedVersion: FileVersion.optional().describe(
    "Refuse (409 file_changed) unless the file still has this version; use with a prior read",
  ),
  createOnly: z.boolean().default(false).describe("Refuse (409 file_exists) if the file exists"),
});
export type WriteFileBody = z.infer<typeof WriteFileBody>;

export const FileInfo = z
  .object({
    path: z.string(),
    type: FileType,
    size: z.number().int(),
    mtime: Timestamp,
    version: FileVersion.optional().describe("Present for files"),
  })
  .meta({ id: "FileInfo" });
export type FileInfo = z.infer<typeof FileInfo>;

export const MoveFileBody = z.strictObject({
  from: FilePath,
  to: FilePath,
  overwrite: z.boolean().default(false).describe("Replace an existing file at `to` (never a directory)"),
  createParents: z.boolean().default(false).describe("Create missing parent directories of `to`"),
});
export type MoveFileBody = z.infer<typeof MoveFileBody>;

export const DeleteFileQuery = z.strictObject({
  path: FilePath,
  recursive: QueryBool.optional().describe("Required to delete a non-empty directory"),
});
export type DeleteFileQuery = z.infer<typeof DeleteFileQuery>;

export const MakeDirectoryBody = z.strictObject({
  path: FilePath,
  parents: z.boolean().default(false).describe("Create missing parents; an existing directory is fine"),
});
export type MakeDirectoryBody = z.infer<typeof MakeDirectoryBody>;

export const SearchFilesQuery = z.strictObject({
  query: z.string().min(1).max(500).describe("Text, regular expression or name pattern to look for"),
  mode: z
    .enum(["content", "name"])
    .optional()
    .describe("content (default): lines of files; name: file names, `*`/`?` glob or substring"),
  regex: QueryBool.optional().describe("Treat `query` as a JavaScript regular expression (content mode)"),
  caseSensitive: QueryBool.optional().describe("Default false"),
  path: DirPath.optional().describe("Directory to search in; the project root when absent"),
  includeIgnored: QueryBool.optional().describe("Also search node_modules (never .git)"),
  maxResults: QueryInt(1, 2000).optional().describe("Default 200"),
});
export type SearchFilesQuery = z.infer<typeof SearchFilesQuery>;

export const SearchMatch = z
  .object({
    path: z.string(),
    line: z.number().int().optional().describe("1-based; absent for name matches"),
    text: z.string().optional().describe("The matching line, cut to 500 characters"),
  })
  .meta({ id: "SearchMatch" });
export type SearchMatch = z.infer<typeof SearchMatch>;

export const SearchResult = z
  .object({
    matches: z.array(SearchMatch),
    truncated: z.boolean().describe("True when maxResults or the scan budget was reached"),
  })
  .meta({ id: "SearchResult" });
export type SearchResult = z.infer<typeof SearchResult>;

/** What changed in a project's files; the runtime and the editor subscribe to these. */
export const FileChange = z.object({
  orgId: z.string(),
  projectId: z.string(),
  kind: z.enum(["written", "deleted", "moved", "directory-created"]),
  /** For `moved`: [from, to]. */
  paths: z.array(z.string()),
});
export type FileChange = z.infer<typeof FileChange>;

/**
 * `GET …/files/events` (server-sent events): `ready` once changes are being watched, then `changed` with
 * the project-relative paths that changed — by anyone: the file API, the agent's commands, the terminal.
 * `overflow` means too much changed to list (an `npm install`): reload everything.
 */
export const FileEventsMessage = z
  .object({
    seq: z.number().int(),
    event: z.object({
      type: z.enum(["ready", "changed"]),
      paths: z.array(z.string()),
      overflow: z.boolean(),
    }),
  })
  .meta({ id: "FileEventsMessage" });
export type FileEventsMessage = z.infer<typeof FileEventsMessage>;
