import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataDirLockedError, lockDataDir } from "./data-dir-lock.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir() {
  const d = await mkdtemp(path.join(os.tmpdir(), "kiln-lock-"));
  dirs.push(d);
  return d;
}

describe("data dir lock", () => {
  it("writes our pid and removes it on unlock", async () => {
    const dir = await tempDir();
    const unlock = await lockDataDir(dir);
    expect(await readFile(path.join(dir, "kiln.pid"), "utf8")).toBe(String(process.pid));
    await unlock();
    await expect(readFile(path.join(dir, "kiln.pid"))).rejects.toThrow();
  });

  it("refuses a directory held by another live process", async () => {
    const dir = await tempDir();
    const other = spawn("sleep", ["30"]);
    try {
      await writeFile(path.join(dir, "kiln.pid"), String(other.pid));
      await expect(lockDataDir(dir)).rejects.toBeInstanceOf(DataDirLockedError);
    } finally {
      other.kill();
    }
  });

  it("takes over a stale lock left by a dead process", async () => {
    const dir = await tempDir();
    const dead = spawn("true");
    await new Promise((r) => dead.on("exit", r));
    await writeFile(path.join(dir, "kiln.pid"), String(dead.pid));
    const unlock = await lockDataDir(dir);
    expect(await readFile(path.join(dir, "kiln.pid"), "utf8")).toBe(String(process.pid));
    await unlock();
  });
});
