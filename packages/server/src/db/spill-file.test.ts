import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SpillFile } from "./spill-file.ts";

let dir: string;

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the outbox's spill file", () => {
  it("refuses to write or read through a symlink planted in its place; the target is untouched", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kiln-spill-"));
    const target = path.join(dir, "elsewhere.txt");
    await writeFile(target, "precious\n");
    const file = path.join(dir, "outbox", "rows.jsonl");
    await new SpillFile(file).append('{"a":1}\n');
    await rm(file);
    await symlink(target, file);
    await expect(new SpillFile(file).append('{"b":2}\n')).rejects.toMatchObject({ code: "ELOOP" });
    const claimed = await new SpillFile(file).claim();
    // The claim renames the link itself (rename never follows); reading it is refused.
    expect(claimed).toBeDefined();
    await expect(
      (async () => {
        for await (const _ of new SpillFile(file).read(claimed!, (v) => v)) void _;
      })(),
    ).rejects.toMatchObject({ code: "ELOOP" });
    await new SpillFile(file).remove(claimed!);
    expect(await readFile(target, "utf8")).toBe("precious\n");
  });
});
