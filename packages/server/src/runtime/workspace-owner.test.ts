import { statSync } from "node:fs";
import { link, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { chownWorkspace } from "./workspace-owner.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("chownWorkspace", () => {
  it("gives a project its files but never the inodes it shares with the dependency cache", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "kiln-owner-"));
    const shared = path.join(root, "cache-file.js");
    await writeFile(shared, "shared", { mode: 0o444 });
    const project = path.join(root, "project");
    await mkdir(path.join(project, "node_modules/pkg"), { recursive: true });
    await writeFile(path.join(project, "index.html"), "<h1>hi</h1>");
    await link(shared, path.join(project, "node_modules/pkg/index.js"));
    await symlink("pkg/index.js", path.join(project, "node_modules/link"));

    const { skipped } = await chownWorkspace(project, 201_234, 201_234);
    expect(skipped).toBe(1);
    for (const p of ["", "index.html", "node_modules", "node_modules/pkg"]) {
      expect(statSync(path.join(project, p)).uid, p).toBe(201_234);
    }
    expect(statSync(shared).uid).toBe(0);
    expect(statSync(path.join(project, "node_modules/pkg/index.js")).uid).toBe(0);
  });
});
