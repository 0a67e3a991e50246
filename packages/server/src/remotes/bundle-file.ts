import { constants } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { KilnError } from "../errors/errors.ts";
import { openFileForRead, ProjectRoot } from "../files/project-root.ts";

/**
 * Takes a bundle git left in a directory a sandbox could write (a project's `.kiln/`, a transfer's work
 * directory) into a file of Kiln's own: the directory opened through verified no-follow descriptors
 * (files/project-root.ts), the bundle without following a link or blocking on a FIFO, and only a regular
 * file with one link read, up to `maxBytes`. The bundle is removed through the same directory descriptor.
 */
export async function takeBundle(o: {
  dir: string;
  segments: string[];
  name: string;
  dest: string;
  maxBytes: number;
}): Promise<number> {
  const root = await ProjectRoot.open(o.dir);
  const dir = await root.openDir(o.segments).catch((err: unknown) => {
    throw new KilnError("history_unavailable", `git left no bundle: ${(err as Error).message}`);
  });
  let file: FileHandle | undefined;
  let out: FileHandle | undefined;
  try {
    file = await openFileForRead(dir, o.name, o.name).catch((err: unknown) => {
      throw new KilnError("history_unavailable", `git left no bundle: ${(err as Error).message}`);
    });
    const st = await file.stat();
    if (st.nlink !== 1) throw new KilnError("history_unavailable", "the bundle has more than one link");
    if (st.size > o.maxBytes) throw tooLarge(o.maxBytes);
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
    out = await open(o.dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    const buffer = Buffer.alloc(1024 * 1024);
    let total = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      // Nothing should write it any more, but the directory is not ours: it may still grow.
      if (total > o.maxBytes) throw tooLarge(o.maxBytes);
      await out.write(buffer, 0, bytesRead);
    }
    return total;
  } finally {
    await out?.close();
    await file?.close();
    await unlink(dir.child(o.name)).catch(() => {});
    await dir.close();
  }
}

export function tooLarge(maxBytes: number): KilnError {
  return new KilnError(
    "git_repository_too_large",
    `the repository is larger than this server's limit of ${Math.round(maxBytes / 2 ** 20)} MiB for a transfer`,
  );
}
