/**
 * Where an agent's tools act: a project's files and a sandbox to run commands in. The server implements
 * it over its file API and runtime driver (so writes are checked, owned by the sandbox uid and announced
 * to live reload); a worker implements it over its own clone. Tools never touch the host directly.
 *
 * Paths are relative POSIX paths inside the project. Implementations refuse `..`, absolute paths and
 * symlinks that lead out of the project by throwing `WorkspaceError` with a stable code; tools turn those
 * into readable results for the model.
 */
export interface Workspace {
  /** UTF-8 text of a file. Codes: file_not_found, is_a_directory, file_too_large, file_binary, path_*. */
  readFile(path: string): Promise<string>;
  /**
   * Creates parent directories as needed; atomic (temp + rename). With `previous`, also answers the UTF-8
   * text the write replaced (read in the same step, so it is exactly what was there), unless the file was
   * new, binary or over the read limit.
   */
  writeFile(path: string, content: string, options?: WriteOptions): Promise<WriteResult>;
  deleteFile(path: string): Promise<void>;
  /**
   * Entries under a directory ("" = root), depth-first, sorted; `.git` and `node_modules` are skipped
   * unless asked for by name. Stops after `limit` entries and says so.
   */
  list(dir: string, options?: { recursive?: boolean; limit?: number }): Promise<ListResult>;
  /** Content search (a JavaScript regular expression) over text files. */
  grep(pattern: string, options?: GrepOptions): Promise<GrepResult>;
  /** Runs `bash -lc <command>` in the project's sandbox with /workspace as the working directory. */
  exec(command: string, options?: ExecOptions): Promise<WorkspaceExecResult>;
  /** A persistent shell in the sandbox (state such as cwd and env survives between commands). */
  openShell?(): Promise<ShellSession>;
  /** What the project is (name, template, KILN.md) for `project_info`. */
  info?(): Promise<ProjectInfo>;
  /** Dev-server state and recent build/runtime errors for `preview_status`. */
  previewStatus?(): Promise<PreviewStatus>;
}

export interface WriteOptions {
  previous?: boolean;
}

export interface WriteResult {
  created: boolean;
  previous?: string;
}

export interface ListEntry {
  path: string;
  type: "file" | "directory" | "symlink" | "other";
  size: number;
}

export interface ListResult {
  entries: ListEntry[];
  truncated: boolean;
}

export interface GrepOptions {
  /** Only under this directory. */
  path?: string;
  /** Only files whose path matches this glob (`**\/*.tsx`). */
  glob?: string;
  ignoreCase?: boolean;
  /** Maximum matches returned. */
  limit?: number;
}

export interface GrepMatch {
  path: string;
  line: number;
  text: string;
}

export interface GrepResult {
  matches: GrepMatch[];
  truncated: boolean;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Relative to /workspace. */
  cwd?: string;
  signal?: AbortSignal;
  /** Outbound network (package registries); off by default. */
  network?: boolean;
}

export interface WorkspaceExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Output was cut in the middle (head + tail kept). */
  truncated: boolean;
  durationMs: number;
}

export interface ShellSession {
  readonly id: string;
  /** Sends a command and returns what it printed until it finished (or the timeout hit). */
  run(command: string, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<WorkspaceExecResult>;
  close(): Promise<void>;
}

export interface ProjectInfo {
  name: string;
  slug: string;
  template: string;
  description?: string;
  /** The template's KILN.md: how the project is laid out and run. */
  guide?: string;
  previewUrl?: string;
}

export interface PreviewStatus {
  state: string;
  detail?: string;
  /** Recent dev-server log lines that look like errors, newest last. */
  errors: string[];
  /** Uncaught errors reported by the preview page in the browser, newest last. */
  browserErrors: string[];
}

export type WorkspaceErrorCode =
  | "file_not_found"
  | "is_a_directory"
  | "not_a_directory"
  | "file_too_large"
  | "file_binary"
  | "path_invalid"
  | "path_outside_project"
  | "path_reserved"
  | "unavailable";

export class WorkspaceError extends Error {
  readonly code: WorkspaceErrorCode;
  constructor(code: WorkspaceErrorCode, message: string) {
    super(message);
    this.name = "WorkspaceError";
    this.code = code;
  }
}
