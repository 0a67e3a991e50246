import { randomUUID } from "node:crypto";
import { constants, existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";

/**
 * The outbox's JSON-lines file. Writers append (O_APPEND); a reader claims the whole file by renaming it to
 * `<file>.<uuid>.replay`, reads it and removes it once its rows are written. Kilns sharing a data dir share
 * the file: a writer whose file was claimed while it appended appends again (the reader may have finished
 * reading first; a row read twice is written once).
 */
export class SpillFile {
  readonly path: string;

  constructor(file: string) {
    this.path = file;
  }

  /** Whether a file or a claim holds rows from an earlier run (or another Kiln). */
  hasRows(): boolean {
    return existsSync(this.path) || claimsOf(this.path).length > 0;
  }

  async append(text: string): Promise<void> {
    await mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
    for (;;) {
      // O_APPEND: every write lands at the end, whatever else writes to the file.
      // Kiln's own directory (0700, root), never inside a project tree nor mounted into a sandbox; NOFOLLOW
      // all the same, so even a symlink someone planted there is refused rather than written through.
      const file = await open(
        this.path,
        constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
        0o600,
      );
      let ino: number;
      try {
        const info = await file.stat();
        ino = info.ino;
        let prefix = "";
        if (info.size > 0) {
          // A crash mid-append leaves a torn last line; end it so it cannot swallow the next row.
          const last = Buffer.alloc(1);
          await file.read(last, 0, 1, info.size - 1);
          if (last[0] !== 0x0a) prefix = "\n";
        }
        await file.appendFile(prefix + text);
        await file.sync();
      } finally {
        await file.close();
      }
      // Claimed (renamed) by a reader while open: it may have read past our rows already; append again.
      if ((await inode(this.path)) === ino) return;
    }
  }

  /**
   * A claim to read: one a run left (it stopped before all its rows were written; oldest first), or the
   * file itself, renamed. Undefined when there is nothing.
   */
  async claim(): Promise<string | undefined> {
    const left = claimsOf(this.path)[0];
    if (left) return left;
    const claimed = `${this.path}.${randomUUID()}${CLAIM_SUFFIX}`;
    try {
      await rename(this.path, claimed);
      return claimed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /** The claim's lines, parsed by `parse`; `undefined` for one that is not a row (torn by a crash). */
  async *read<T>(claimed: string, parse: (value: unknown) => T | undefined): AsyncGenerator<T | undefined> {
    const input = (await open(claimed, constants.O_RDONLY | constants.O_NOFOLLOW)).createReadStream();
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) {
        if (line.trim() !== "") yield parseLine(line, parse);
      }
    } finally {
      lines.close();
    }
  }

  async remove(claimed: string): Promise<void> {
    await rm(claimed, { force: true });
  }
}

function parseLine<T>(line: string, parse: (value: unknown) => T | undefined): T | undefined {
  try {
    return parse(JSON.parse(line));
  } catch {
    return undefined;
  }
}

const CLAIM_SUFFIX = ".replay";

/** Claimed spill files (`<file>.<uuid>.replay`) still to be written, oldest first. */
function claimsOf(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names
    .filter((n) => n.startsWith(prefix) && n.endsWith(CLAIM_SUFFIX))
    .map((n) => path.join(dir, n))
    .map((f) => ({ f, mtime: statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => a.mtime - b.mtime)
    .map((c) => c.f);
}

async function inode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).ino;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
