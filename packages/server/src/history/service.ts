import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Checkpoint, CheckpointDiff, CheckpointPage, RestoreResult } from "@kiln/protocol";
import { KilnError, NotFoundError, ValidationError } from "../errors/errors.ts";
import type { FileEvents } from "../files/events.ts";
import type { ProjectStorage } from "../projects/storage.ts";
import { DisabledDriver, type SandboxDriver, UnsafeHostDriver } from "../sandbox/index.ts";
import { KILN_AUTHOR } from "../templates/git.ts";
import {
  BRANCH_DIFF_SCRIPT,
  BUNDLE_SCRIPT,
  CHECKPOINT_SCRIPT,
  DIFF_SCRIPT,
  EXIT,
  FIND_MESSAGE_SCRIPT,
  IMPORT_SCRIPT,
  LIST_SCRIPT,
  MERGE_SCRIPT,
  RESTORE_SCRIPT,
} from "./git-shell.ts";
import { KeyedLock } from "./lock.ts";
import { logFormat, parseDiff, parseNameStatus, parseRecord, parseRecords, splitOnNonce } from "./parse.ts";

/** A project as the history sees it. `org` (an org row) or `orgId` names its org. */
export type HistoryTarget = { projectId: string } & ({ orgId: string } | { org: { id: string } });

export interface CheckpointInput {
  message: string;
  chatId?: string | undefined;
  messageId?: string | undefined;
  /** Shown as the commit's author; Kiln when absent. */
  author?: string | undefined;
}

export interface HistoryLimits {
  /** Bytes of patch text one diff may read. */
  diffBytes: number;
  diffFiles: number;
  diffLinesPerFile: number;
  /** Wall-clock limit of one history operation (one sandboxed script). */
  timeoutMs: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = {
  diffBytes: 1024 * 1024,
  diffFiles: 500,
  diffLinesPerFile: 5_000,
  timeoutMs: 60_000,
};

export interface HistoryOptions {
  storage: ProjectStorage;
  /** Git runs in the project's sandbox (see `#runner`). */
  driver: SandboxDriver;
  /** Told which files a restore wrote or deleted, so dev servers and editors reload. */
  events?: FileEvents | undefined;
  limits?: Partial<HistoryLimits> | undefined;
}

const ID = /^[A-Za-z0-9_-]{1,100}$/;
const MAX_MESSAGE = 4_000;
const SAVE_MESSAGE = "Uncommitted changes before restore";

const checkpointNotFound = () =>
  new NotFoundError("checkpoint_not_found", "no such checkpoint in this project's history");

/**
 * Checkpoints: a project's files as git commits in the project's own repository (made at creation, on
 * `main`). A checkpoint commits everything in the working tree; restore and undo write an older tree back
 * and record that as a new commit, so history only grows and every restore can itself be undone.
 *
 * Git runs inside the project's sandbox, as the project's uid, with no network. Sandboxed code owns the
 * working tree and `.git` and may change both while git runs; on the host as root, a directory swapped
 * for a symlink between git's check and its open would let the project read (via `git add`) or write
 * (via checkout) any file on the host. In the sandbox such a link leads nowhere the project cannot
 * already reach, and files git writes are owned by the project's uid without a chown pass. Hostile repo
 * config is neutralised either way (git-shell.ts). When the host cannot sandbox at all (disabled driver),
 * no project code ever runs there, and git runs on the host with the same hardening.
 */
export class ProjectHistory {
  readonly limits: HistoryLimits;
  readonly #o: HistoryOptions;
  readonly #runner: SandboxDriver;
  readonly #lock = new KeyedLock();
  /** An empty HOME for git on the host; in a sandbox /tmp is a fresh, empty tmpfs for each command. */
  readonly #home: string;

  constructor(options: HistoryOptions) {
    this.#o = options;
    this.limits = { ...DEFAULT_HISTORY_LIMITS, ...options.limits };
    const host = options.driver instanceof DisabledDriver || options.driver.unsandboxed;
    this.#runner = options.driver instanceof DisabledDriver ? new UnsafeHostDriver() : options.driver;
    this.#home = host ? mkdtempSync(path.join(os.tmpdir(), "kiln-git-home-")) : "/tmp";
  }

  close(): void {
    if (this.#home !== "/tmp") rmSync(this.#home, { recursive: true, force: true });
  }

  /**
   * Runs `work` while no other history operation of the project runs. A push over git HTTP (git/) moves
   * the checked-out branch and rewrites the working tree, like a restore, so it takes the same turn.
   */
  exclusive<T>(target: HistoryTarget, work: () => Promise<T>): Promise<T> {
    return this.#lock.run(keyOf(target), work);
  }

  /** Commits every change in the working tree; null when nothing changed since the last commit. */
  async checkpoint(target: HistoryTarget, input: CheckpointInput): Promise<Checkpoint | null> {
    const message = composeMessage(input);
    return this.#lock.run(keyOf(target), async () => {
      const nonce = newNonce();
      const out = await this.#git(target, CHECKPOINT_SCRIPT, [], {
        env: { KILN_MESSAGE: message, KILN_FORMAT: logFormat(nonce), KILN_NONCE: nonce },
        author: input.author,
      });
      return parseRecords(out, nonce)[0] ?? null;
    });
  }

  /**
   * Writes the project's whole history as a git bundle at `.kiln/<name>` (made by git in the sandbox; the
   * caller reads it back through no-follow descriptors and removes it). `history_unavailable` without commits.
   */
  async bundle(target: HistoryTarget, name: string): Promise<void> {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name) || name.startsWith("."))
      throw new Error(`bad bundle name ${name}`);
    await this.#lock.run(keyOf(target), async () => {
      try {
        await this.#git(target, BUNDLE_SCRIPT, [`.kiln/${name}`], { env: {} });
      } catch (err) {
        if (err instanceof NotFoundError)
          throw new KilnError("history_unavailable", "the project has no checkpoint yet");
        throw err;
      }
    });
  }

  /**
   * Gives an imported project (files written, no `.git` yet) its repository: the history of `bundle` (a
   * file at the project's root) when it is a valid git bundle, and its files checkpointed on top. Says
   * whether the bundle was restored (its file then removed) or kept as a file.
   */
  async initImported(
    target: HistoryTarget,
    bundle: string | undefined,
  ): Promise<"restored" | "kept" | "none"> {
    return this.#lock.run(keyOf(target), async () => {
      const nonce = newNonce();
      const out = await this.#git(target, IMPORT_SCRIPT, [bundle ?? ""], {
        env: { KILN_MESSAGE: "Imported from a zip", KILN_FORMAT: logFormat(nonce), KILN_NONCE: nonce },
      });
      const state = new RegExp(`${nonce}history (restored|kept|none)`).exec(out)?.[1];
      return (state ?? "none") as "restored" | "kept" | "none";
    });
  }

  async list(
    target: HistoryTarget,
    query: { limit?: number; before?: string } = {},
  ): Promise<CheckpointPage> {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
    const before = query.before === undefined ? "" : checkSha(query.before);
    const nonce = newNonce();
    const out = await this.#git(target, LIST_SCRIPT, [], {
      env: { KILN_FORMAT: logFormat(nonce), KILN_LIMIT: String(limit + 1), KILN_BEFORE: before },
    });
    const records = parseRecords(out, nonce);
    const page = records.slice(0, limit);
    return { checkpoints: page, nextBefore: records.length > limit ? page.at(-1)!.sha : null };
  }

  /** What one checkpoint changed, against its first parent; large diffs are cut (`truncated`). */
  async diff(target: HistoryTarget, sha: string): Promise<CheckpointDiff> {
    const nonce = newNonce();
    const out = await this.#git(target, DIFF_SCRIPT, [checkSha(sha)], {
      env: { KILN_NONCE: nonce, KILN_MAX_BYTES: String(this.limits.diffBytes) },
      outputBytes: this.limits.diffBytes + 64 * 1024,
    });
    return this.#parseDiffOutput(out, nonce);
  }

  /** A work branch (an agent's `kiln/…`) against where it left the checked-out branch. */
  async branchDiff(target: HistoryTarget, branch: string): Promise<CheckpointDiff> {
    const nonce = newNonce();
    const out = await this.#git(target, BRANCH_DIFF_SCRIPT, [checkBranch(branch)], {
      env: { KILN_NONCE: nonce, KILN_MAX_BYTES: String(this.limits.diffBytes) },
      outputBytes: this.limits.diffBytes + 64 * 1024,
    });
    return this.#parseDiffOutput(out, nonce);
  }

  /**
   * Merges a work branch into the checked-out branch as a merge commit and updates the files (announced
   * like a restore). Uncommitted changes are checkpointed first; a conflict changes nothing (409).
   */
  async mergeBranch(
    target: HistoryTarget,
    branch: string,
    message: string,
  ): Promise<{ merged: Checkpoint | null; changedPaths: string[] }> {
    const checked = checkBranch(branch);
    return this.#lock.run(keyOf(target), async () => {
      const nonce = newNonce();
      let out: string;
      try {
        out = await this.#git(target, MERGE_SCRIPT, [checked], {
          env: {
            KILN_MESSAGE: message.slice(0, 2000),
            KILN_SAVE_MESSAGE: SAVE_MESSAGE,
            KILN_FORMAT: logFormat(nonce),
            KILN_NONCE: nonce,
          },
        });
      } catch (err) {
        if (err instanceof KilnError && err.code === "checkpoint_not_found")
          throw new NotFoundError("branch_not_found", `no branch ${checked} in this project`);
        throw err;
      }
      let merged: Checkpoint | null = null;
      const written: string[] = [];
      const deleted: string[] = [];
      let section = "";
      for (const chunk of splitOnNonce(out, nonce)) {
        const record = parseRecord(chunk);
        if (record) {
          if (section === "merged") merged = record;
          continue;
        }
        const newline = chunk.indexOf("\n");
        section = newline === -1 ? chunk : chunk.slice(0, newline);
        if (section === "changes") {
          for (const change of parseNameStatus(chunk.slice(newline + 1))) {
            (change.status === "D" ? deleted : written).push(change.path);
          }
        }
      }
      const orgId = orgIdOf(target);
      if (written.length)
        this.#o.events?.emit({ orgId, projectId: target.projectId, kind: "written", paths: written });
      if (deleted.length)
        this.#o.events?.emit({ orgId, projectId: target.projectId, kind: "deleted", paths: deleted });
      return { merged, changedPaths: [...written, ...deleted] };
    });
  }

  #parseDiffOutput(out: string, nonce: string): CheckpointDiff {
    const chunk = splitOnNonce(out, nonce)[0] ?? "";
    const newline = chunk.indexOf("\n");
    const [, commit, parent] = chunk.slice(0, newline).split(" ");
    if (newline === -1 || !commit) throw new Error(`unexpected git output: ${chunk.slice(0, 200)}`);
    const body = chunk.slice(newline + 1);
    const { files, truncated } = parseDiff(body, {
      maxFiles: this.limits.diffFiles,
      maxLinesPerFile: this.limits.diffLinesPerFile,
      // `head -c` counts bytes; a multi-byte character cut in two decodes to a replacement character.
      capped: Buffer.byteLength(body) >= this.limits.diffBytes - 4,
    });
    return { sha: commit, parentSha: parent && parent !== "-" ? parent : null, files, truncated };
  }

  /**
   * Makes the working tree equal to `sha`'s and records that as a new commit. Refuses (409
   * `uncommitted_changes`) when files changed since the last checkpoint, unless `force`, which first saves
   * them as a checkpoint of their own, so nothing is ever lost.
   */
  async restore(
    target: HistoryTarget,
    sha: string,
    options: { force?: boolean } = {},
  ): Promise<RestoreResult> {
    const checked = checkSha(sha);
    return this.#lock.run(keyOf(target), () =>
      this.#restore(target, checked, `Restore to ${checked.slice(0, 7)}`, options.force ?? false),
    );
  }

  /** Restores the state just before a message's checkpoint (its parent), as a new commit. */
  async undo(
    target: HistoryTarget,
    messageId: string,
    options: { force?: boolean } = {},
  ): Promise<RestoreResult> {
    if (!ID.test(messageId)) throw new ValidationError("messageId is not an id");
    return this.#lock.run(keyOf(target), async () => {
      const nonce = newNonce();
      const out = await this.#git(target, FIND_MESSAGE_SCRIPT, [messageId], {
        env: { KILN_FORMAT: logFormat(nonce) },
      });
      // Newest first; a turn checkpointed more than once is undone back to before its first one.
      const first = parseRecords(out, nonce)
        .filter((c) => c.messageId === messageId)
        .at(-1);
      if (!first) throw new NotFoundError("checkpoint_not_found", "this message saved no checkpoint");
      if (!first.parentSha) throw new KilnError("conflict", "there is nothing before this checkpoint");
      return this.#restore(
        target,
        first.parentSha,
        `Undo "${first.message.slice(0, 200)}"`,
        options.force ?? false,
      );
    });
  }

  async #restore(
    target: HistoryTarget,
    sha: string,
    message: string,
    force: boolean,
  ): Promise<RestoreResult> {
    const nonce = newNonce();
    const out = await this.#git(target, RESTORE_SCRIPT, [sha], {
      env: {
        KILN_FORCE: force ? "1" : "0",
        KILN_SAVE_MESSAGE: SAVE_MESSAGE,
        KILN_MESSAGE: message,
        KILN_FORMAT: logFormat(nonce),
        KILN_NONCE: nonce,
      },
    });
    let saved: Checkpoint | null = null;
    let restored: Checkpoint | null = null;
    let restoredTo = "";
    const written: string[] = [];
    const deleted: string[] = [];
    for (const chunk of splitOnNonce(out, nonce)) {
      const record = parseRecord(chunk);
      if (record) {
        if (record.restoredFrom) restored = record;
        else saved = record;
        continue;
      }
      const newline = chunk.indexOf("\n");
      const name = chunk.slice(0, newline);
      if (name.startsWith("target ")) restoredTo = name.slice("target ".length);
      if (name === "changes") {
        for (const change of parseNameStatus(chunk.slice(newline + 1))) {
          (change.status === "D" ? deleted : written).push(change.path);
        }
      }
    }
    const orgId = orgIdOf(target);
    if (written.length)
      this.#o.events?.emit({ orgId, projectId: target.projectId, kind: "written", paths: written });
    if (deleted.length)
      this.#o.events?.emit({ orgId, projectId: target.projectId, kind: "deleted", paths: deleted });
    return { restoredTo, checkpoint: restored, savedChanges: saved, changedPaths: [...written, ...deleted] };
  }

  async #git(
    target: HistoryTarget,
    script: string,
    args: string[],
    options: { env: Record<string, string>; author?: string | undefined; outputBytes?: number },
  ): Promise<string> {
    const workspaceDir = this.#o.storage.projectDir(orgIdOf(target), target.projectId);
    const author = authorName(options.author);
    const result = await this.#runner.exec(
      {
        projectId: target.projectId,
        workspaceDir,
        network: "none",
        limits: { wallClockMs: this.limits.timeoutMs, outputBytes: options.outputBytes ?? 4 * 1024 * 1024 },
      },
      {
        argv: ["sh", "-c", script, "kiln-git", ...args],
        env: {
          ...gitEnvironment(this.#home),
          GIT_AUTHOR_NAME: author,
          GIT_AUTHOR_EMAIL: KILN_AUTHOR.email,
          ...options.env,
        },
      },
    );
    if (result.exitCode === 0) return result.stdout;
    if (result.timedOut) throw new KilnError("unavailable", "the project's history took too long to answer");
    if (result.exitCode === EXIT.notFound) throw checkpointNotFound();
    if (result.exitCode === EXIT.dirty) {
      throw new KilnError(
        "uncommitted_changes",
        "files changed since the last checkpoint; pass force: true to save them as a checkpoint first",
      );
    }
    if (result.exitCode === EXIT.conflict) {
      throw new KilnError("merge_conflict", "the branch conflicts with the project's current files");
    }
    if (result.exitCode === EXIT.noRepository) {
      throw new KilnError("history_unavailable", "this project has no git repository");
    }
    const inTheWay = /Entry '(.+)' not uptodate|working tree file '(.+)' would be overwritten/.exec(
      result.stderr,
    );
    if (inTheWay) {
      // Files changed on disk while the command ran (the app or a terminal writing), or an untracked file
      // where the branch has one: nothing was changed; the user can save, move the file or try again.
      throw new KilnError(
        "files_in_the_way",
        `${inTheWay[1] ?? inTheWay[2]} changed in the project while git was updating the files; try again`,
        { details: { path: inTheWay[1] ?? inTheWay[2] } },
      );
    }
    if (/index\.lock|cannot lock ref/.test(result.stderr)) {
      throw new KilnError("history_busy", "another git command is running in this project; try again");
    }
    throw new Error(`git failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-2000)}`);
  }
}

/**
 * The environment of every history command: no system or user git config (the operator's hooks, aliases
 * or signing keys must not apply to projects), no prompts, no pager, no replacement objects.
 */
export function gitEnvironment(home: string): Record<string, string> {
  return {
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    HOME: home,
    XDG_CONFIG_HOME: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    GIT_PAGER: "cat",
    PAGER: "cat",
    GIT_EDITOR: ":",
    GIT_NO_REPLACE_OBJECTS: "1",
    GIT_COMMITTER_NAME: KILN_AUTHOR.name,
    GIT_COMMITTER_EMAIL: KILN_AUTHOR.email,
    LC_ALL: "C.UTF-8",
  };
}

function orgIdOf(target: HistoryTarget): string {
  return "orgId" in target ? target.orgId : target.org.id;
}

function keyOf(target: HistoryTarget): string {
  return `${orgIdOf(target)}/${target.projectId}`;
}

function newNonce(): string {
  return `\x1e${randomBytes(12).toString("hex")}:`;
}

function checkSha(sha: string): string {
  if (!/^[0-9a-f]{7,64}$/.test(sha)) throw new ValidationError("not a commit id (7 to 64 hex digits)");
  return sha;
}

/** The commit message: the caller's words without control characters or forged Kiln trailers, then ours. */
export function composeMessage(input: CheckpointInput): string {
  for (const [name, value] of [
    ["chatId", input.chatId],
    ["messageId", input.messageId],
  ] as const) {
    if (value !== undefined && !ID.test(value)) throw new ValidationError(`${name} is not an id`);
  }
  const text = input.message
    .replace(/\r\n?/g, "\n")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
    .split("\n")
    .filter((line) => !/^\s*kiln-[a-z-]*\s*:/i.test(line))
    .join("\n")
    .trim()
    .slice(0, MAX_MESSAGE);
  const trailers = [
    ...(input.chatId ? [`Kiln-Chat: ${input.chatId}`] : []),
    ...(input.messageId ? [`Kiln-Message: ${input.messageId}`] : []),
  ];
  const body = text || "Checkpoint";
  return trailers.length ? `${body}\n\n${trailers.join("\n")}` : body;
}

function authorName(author: string | undefined): string {
  const clean = (author ?? "")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: an ident must be one plain line
    .replace(/[\u0000-\u001f\u007f<>]/g, "")
    .trim()
    .slice(0, 100);
  return /[\p{L}\p{N}]/u.test(clean) ? clean : KILN_AUTHOR.name;
}

const BRANCH = /^kiln\/[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/;

/** Only Kiln's own work branches, spelled so that no git option or revision syntax can hide in them. */
function checkBranch(branch: string): string {
  if (!BRANCH.test(branch) || branch.includes("..") || branch.endsWith(".lock")) {
    throw new ValidationError("not a Kiln work branch (kiln/…)");
  }
  return branch;
}
