import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { measureDiskUsage } from "./disk-usage.ts";

const isRoot = process.getuid?.() === 0;
const owner = { uid: 231_234, gid: 231_234 };
const MiB = 1024 * 1024;

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "kiln-du-"));
  chmodSync(root, 0o755);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A file of `bytes` written through and given to the project's user. */
function file(rel: string, bytes: number, by = owner): string {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, Buffer.alloc(bytes, 1));
  chownSync(p, by.uid, by.gid);
  return p;
}

describe.runIf(isRoot)("measureDiskUsage (as the project's uid)", () => {
  it("charges what the project's user owns, each inode once, and nothing shared or outside", async () => {
    const ws = path.join(root, "ws");
    mkdirSync(ws);
    chownSync(ws, owner.uid, owner.gid);
    file("ws/a.bin", 3 * MiB);
    mkdirSync(path.join(ws, "sub"));
    chownSync(path.join(ws, "sub"), owner.uid, owner.gid);
    const b = file("ws/sub/b.bin", 2 * MiB);
    // A tenant's own hard link is still one file.
    linkSync(b, path.join(ws, "b-again.bin"));
    // A root-owned file hard-linked from a shared cache (ADR 0007) is not the project's.
    const cached = file("cache/dep.js", 5 * MiB, { uid: 0, gid: 0 });
    linkSync(cached, path.join(ws, "dep.js"));
    // A symlink out of the workspace is not followed.
    file("elsewhere/big.bin", 7 * MiB);
    symlinkSync(path.join(root, "elsewhere"), path.join(ws, "out"));

    const usage = await measureDiskUsage(ws, owner);
    expect(usage.unreadable).toBeUndefined();
    expect(usage.bytes).toBeGreaterThanOrEqual(5 * MiB);
    expect(usage.bytes).toBeLessThan(5 * MiB + 64 * 1024);
  });

  it("reports a directory the project's user made unreadable (it would hide files from the meter)", async () => {
    const ws = path.join(root, "ws");
    mkdirSync(ws);
    chownSync(ws, owner.uid, owner.gid);
    file("ws/hidden/big.bin", 4 * MiB);
    chownSync(path.join(ws, "hidden"), owner.uid, owner.gid);
    chmodSync(path.join(ws, "hidden"), 0o000);
    const usage = await measureDiskUsage(ws, owner);
    expect(usage.unreadable).toBe("hidden");
  });

  it("answers 0 for a project directory that is gone", async () => {
    expect(await measureDiskUsage(path.join(root, "nope"), owner)).toEqual({
      bytes: 0,
      unreadable: undefined,
    });
  });
});
