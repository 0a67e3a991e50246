import { spawn } from "node:child_process";
import { lstatSync, statSync } from "node:fs";
import { chmod, chown, link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { removeProjectTree } from "./as-owner.ts";
import { chownWorkspace } from "./workspace-owner.ts";

const isRoot = process.getuid?.() === 0;
const OWNER = { uid: 201_234, gid: 201_234 };

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
    // A symlink out of the tree: never followed.
    await mkdir(path.join(root, "outside"));
    await writeFile(path.join(root, "outside", "secret"), "root's");
    await symlink(path.join(root, "outside"), path.join(project, "escape"));

    const { skipped } = await chownWorkspace(project, OWNER.uid, OWNER.gid);
    expect(skipped).toBe(1);
    for (const p of ["", "index.html", "node_modules", "node_modules/pkg"]) {
      expect(statSync(path.join(project, p)).uid, p).toBe(OWNER.uid);
    }
    expect(statSync(shared).uid).toBe(0);
    expect(statSync(path.join(project, "node_modules/pkg/index.js")).uid).toBe(0);
    for (const p of ["outside", "outside/secret"]) expect(statSync(path.join(root, p)).uid, p).toBe(0);
    expect(lstatSync(path.join(project, "escape")).uid).toBe(0);
    await rm(root, { recursive: true, force: true });
  });

  it("is never led out of the tree by a directory swapped for a symlink while it walks", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "kiln-owner-race-"));
    const outside = path.join(root, "outside");
    await mkdir(outside);
    const project = path.join(root, "project");
    await mkdir(path.join(project, "d"), { recursive: true });
    for (let i = 0; i < 50; i++) {
      await writeFile(path.join(outside, `f${i}`), "root's");
      await writeFile(path.join(project, "d", `f${i}`), "mine");
    }
    await symlink(outside, path.join(project, "d.link"));
    // Swaps d and the link as fast as it can, as the project's code would from its sandbox.
    const swapper = spawn(
      process.execPath,
      [
        "-e",
        `const fs=require("fs");process.chdir(${JSON.stringify(project)});const end=Date.now()+4000;
         while(Date.now()<end){try{fs.renameSync("d","d.real");fs.renameSync("d.link","d");
         fs.renameSync("d","d.link");fs.renameSync("d.real","d")}catch{}}`,
      ],
      { stdio: "ignore" },
    );
    const done = new Promise((r) => swapper.on("exit", r));
    const end = Date.now() + 3_500;
    while (Date.now() < end) {
      await chownWorkspace(project, OWNER.uid, OWNER.gid);
      // Back to root, so every round has something to hand over.
      await chown(project, 0, 0);
      await chown(path.join(project, "d.real"), 0, 0).catch(() => {});
    }
    await done;
    for (let i = 0; i < 50; i++) expect(statSync(path.join(outside, `f${i}`)).uid).toBe(0);
    expect(statSync(outside).uid).toBe(0);
    await rm(root, { recursive: true, force: true });
  });
});

describe.skipIf(!isRoot)("removeProjectTree", () => {
  it("removes a project's tree as its owner: a symlink out is never followed, unwritable directories go too", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "kiln-remove-"));
    const outside = path.join(root, "outside");
    await mkdir(outside);
    await writeFile(path.join(outside, "canary"), "root's");
    const project = path.join(root, "projects", "p");
    await mkdir(path.join(project, "src", "locked"), { recursive: true });
    await writeFile(path.join(project, "src", "locked", "a.txt"), "a");
    await symlink(outside, path.join(project, "src", "out"));
    const shared = path.join(root, "shared.js");
    await writeFile(shared, "shared", { mode: 0o444 });
    await link(shared, path.join(project, "src", "shared.js"));
    await chownWorkspace(project, OWNER.uid, OWNER.gid);
    await chmod(path.join(project, "src", "locked"), 0o555);

    await removeProjectTree(project, OWNER);
    expect(() => lstatSync(project)).toThrow();
    expect(statSync(path.join(outside, "canary")).uid).toBe(0);
    expect(statSync(shared).nlink).toBe(1);
    await rm(root, { recursive: true, force: true });
  });
});
