import type { Checkpoint, DiffFile, DiffFileStatus, DiffHunk } from "@kiln/protocol";

/**
 * Parsers for what the scripts in git-shell.ts print. Commit messages and file names come from the
 * project (hostile), so records are split on a per-call random nonce and paths are read NUL-separated.
 */

const US = "\x1f";

/** `git log --format` for one checkpoint record; `%s` last because a subject may contain anything. */
export function logFormat(nonce: string): string {
  const trailer = (key: string) => `%(trailers:key=${key},valueonly,unfold,separator=%x2C)`;
  return [
    `${nonce}%H`,
    "%P",
    "%cI",
    "%an",
    trailer("Kiln-Chat"),
    trailer("Kiln-Message"),
    trailer("Kiln-Restore"),
    "%s",
  ].join("%x1f");
}

export interface Section {
  name: string;
  body: string;
}

/** Splits output into nonce-led chunks: records (`<sha>\x1f…`) and named sections (`changes\n…`). */
export function splitOnNonce(text: string, nonce: string): string[] {
  return text.split(nonce).slice(1);
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

export function parseRecords(text: string, nonce: string): Checkpoint[] {
  const out: Checkpoint[] = [];
  for (const chunk of splitOnNonce(text, nonce)) {
    const record = parseRecord(chunk);
    if (record) out.push(record);
  }
  return out;
}

/** One `logFormat` record followed by its optional `--shortstat` line; undefined when it is not one. */
export function parseRecord(chunk: string): Checkpoint | undefined {
  const newline = chunk.indexOf("\n");
  const header = newline === -1 ? chunk : chunk.slice(0, newline);
  const fields = header.split(US);
  if (fields.length < 8 || !SHA.test(fields[0]!)) return undefined;
  const [sha, parents, date, author, chat, message, restore] = fields as [string, ...string[]];
  const subject = fields.slice(7).join(US);
  const stats = parseShortstat(newline === -1 ? "" : chunk.slice(newline + 1));
  const parent = parents!.split(" ").find((p) => SHA.test(p)) ?? null;
  return {
    sha,
    shortSha: sha.slice(0, 7),
    parentSha: parent,
    message: subject,
    author: author!,
    chatId: trailerId(chat!),
    messageId: trailerId(message!),
    restoredFrom: trailerSha(restore!),
    createdAt: new Date(date!).toISOString(),
    filesChanged: stats.filesChanged,
    stats,
  };
}

/** The last value of a trailer that looks like an id; anything else (forged, multi-valued junk) is null. */
function trailerId(value: string): string | null {
  const last = value.split(",").at(-1)?.trim() ?? "";
  return /^[A-Za-z0-9_-]{1,100}$/.test(last) ? last : null;
}

function trailerSha(value: string): string | null {
  const last = value.split(",").at(-1)?.trim() ?? "";
  return SHA.test(last) ? last : null;
}

export function parseShortstat(text: string): Checkpoint["stats"] {
  const line = text.split("\n").find((l) => /^\s*\d+ files? changed/.test(l)) ?? "";
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? 0);
  return {
    filesChanged: num(/(\d+) files? changed/),
    insertions: num(/(\d+) insertions?\(\+\)/),
    deletions: num(/(\d+) deletions?\(-\)/),
  };
}

export interface NameStatus {
  status: string;
  path: string;
}

/** `git diff-tree -z --name-status --no-renames` output. */
export function parseNameStatus(text: string): NameStatus[] {
  const parts = text.split("\0");
  const out: NameStatus[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const status = parts[i]!.trim();
    if (!status) break;
    out.push({ status, path: parts[i + 1]! });
  }
  return out;
}

const STATUS: Record<string, DiffFileStatus> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "type-changed",
};

interface RawEntry {
  status: DiffFileStatus;
  path: string;
  oldPath: string | null;
}

/**
 * `git diff-tree -r -z -M --raw --numstat -p` output, possibly cut at a byte limit: the raw listing (one
 * record per file), then numstat (one per file, same order), a NUL, then the patch with one
 * `diff --git` section per file, in the same order again.
 */
export function parseDiff(
  text: string,
  limits: { maxFiles: number; maxLinesPerFile: number; capped: boolean },
): { files: DiffFile[]; truncated: boolean } {
  let pos = 0;
  let cut = false;
  const next = (): string | undefined => {
    const end = text.indexOf("\0", pos);
    if (end === -1) {
      cut = true;
      return undefined;
    }
    const token = text.slice(pos, end);
    pos = end + 1;
    return token;
  };

  const raw: RawEntry[] = [];
  while (!cut && text.startsWith(":", pos)) {
    const meta = next();
    const first = next();
    if (meta === undefined || first === undefined) break;
    const status = STATUS[meta.split(" ").at(-1)?.[0] ?? "M"] ?? "modified";
    if (status === "renamed" || status === "copied") {
      const second = next();
      if (second === undefined) break;
      raw.push({ status, path: second, oldPath: first });
    } else {
      raw.push({ status, path: first, oldPath: null });
    }
  }

  const counts: Array<{ additions: number | null; deletions: number | null }> = [];
  while (!cut && counts.length < raw.length) {
    const head = next();
    if (head === undefined) break;
    const [added, deleted, inlinePath] = head.split("\t");
    // A rename's numstat has an empty path here and names both paths in the next two tokens.
    if (inlinePath === "" && (next() === undefined || next() === undefined)) break;
    const binary = added === "-";
    counts.push({ additions: binary ? null : Number(added), deletions: binary ? null : Number(deleted) });
  }
  // One NUL separates the listings from the patch.
  if (!cut && text[pos] === "\0") pos++;
  const sections = cut ? [] : splitPatch(text.slice(pos));
  // Sections are matched to files by position; if there are more sections than files, none is trusted.
  const trusted = sections.length <= raw.length ? sections : [];

  const files: DiffFile[] = [];
  let truncated = cut;
  for (const [i, entry] of raw.entries()) {
    if (files.length >= limits.maxFiles) {
      truncated = true;
      break;
    }
    const count = counts[i];
    const section = trusted[i];
    const binary = count ? count.additions === null : /^Binary files /m.test(section ?? "");
    const changedLines = (count?.additions ?? 0) + (count?.deletions ?? 0);
    const parsed = section !== undefined && !binary ? parseHunks(section, limits.maxLinesPerFile) : undefined;
    // The byte cap may have cut the last section mid-way, and dropped the ones after it.
    const lastCut = limits.capped && !binary && i === trusted.length - 1;
    const missing = !binary && section === undefined && (count === undefined || changedLines > 0);
    const fileTruncated = missing || lastCut || (parsed?.truncated ?? false);
    if (fileTruncated) truncated = true;
    files.push({
      path: entry.path,
      oldPath: entry.oldPath,
      status: entry.status,
      binary,
      additions: count?.additions ?? null,
      deletions: count?.deletions ?? null,
      hunks: parsed?.hunks ?? [],
      truncated: fileTruncated,
    });
  }
  return { files, truncated };
}

function splitPatch(patch: string): string[] {
  if (!patch.startsWith("diff --git ")) return [];
  return patch.split(/\n(?=diff --git )/);
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function parseHunks(section: string, maxLines: number): { hunks: DiffHunk[]; truncated: boolean } {
  const hunks: DiffHunk[] = [];
  let current: DiffHunk | undefined;
  let lines = 0;
  let truncated = false;
  for (const line of section.split("\n")) {
    const m = HUNK.exec(line);
    if (m) {
      current = {
        header: line,
        oldStart: Number(m[1]),
        oldLines: m[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m[3]),
        newLines: m[4] === undefined ? 1 : Number(m[4]),
        lines: [],
      };
      hunks.push(current);
      continue;
    }
    if (!current) continue;
    if (line === "" || !" +-\\".includes(line[0]!)) continue;
    if (lines >= maxLines) {
      truncated = true;
      break;
    }
    current.lines.push(line);
    lines++;
  }
  return { hunks, truncated };
}
