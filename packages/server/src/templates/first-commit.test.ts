import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { copyTemplate, writeGitignore } from "./copy.ts";
import { FirstCommits } from "./first-commit.ts";
import { gitEnv } from "./git.ts";
import type { LoadedTemplate } from "./registry.ts";

let root: string;
afterAll(() => rm(root, { recursive: true, force: true }));

const gitOut = (cwd: string, args: string[]) =>
  execFileSync("git", ["-c", "safe.directory=*", ...args], { cwd, env: gitEnv(), encoding: "utf8" }).trim();

describe("FirstCommits", () => {
  it("gives each project a sound repository with one commit on main, as git would have made it", async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "kiln-first-commit-"));
    const dir = path.join(root, "tpl");
    await mkdir(path.join(dir, "src"), { recursive: true });
    await writeFile(path.join(dir, "index.html"), "<h1>hi</h1>\n");
    await writeFile(path.join(dir, "src", "run.sh"), "#!/bin/sh\necho hi\n");
    await chmod(path.join(dir, "src", "run.sh"), 0o755);
    const template: LoadedTemplate = {
      dir,
      manifest: {
        name: "plain",
        title: "Plain",
        description: "plain",
        dev: { argv: ["x"], env: {}, port: { env: "PORT", default: 3000 }, ready: { path: "/" } },
        readFirst: [],
        gitignore: ["dist/"],
      },
    };
    const commits = new FirstCommits();
    const trees = new Set<string>();
    for (const name of ["a", "b"]) {
      const project = path.join(root, name);
      await mkdir(project);
      await copyTemplate(dir, project);
      await writeGitignore(project, template.manifest);
      const before = Math.floor(Date.now() / 1000);
      await commits.write(template, project, "Create project from the plain template");
      gitOut(project, ["fsck", "--strict", "--no-dangling"]);
      expect(gitOut(project, ["rev-parse", "--abbrev-ref", "HEAD"])).toBe("main");
      expect(gitOut(project, ["log", "--format=%an <%ae>|%cn <%ce>|%s"]).split("\n")).toEqual([
        "Kiln <kiln@localhost>|Kiln <kiln@localhost>|Create project from the plain template",
      ]);
      expect(Number(gitOut(project, ["log", "-1", "--format=%ct"]))).toBeGreaterThanOrEqual(before);
      expect(gitOut(project, ["status", "--porcelain", "--untracked-files=all"])).toBe("");
      expect(gitOut(project, ["ls-files", "-s", "src/run.sh"])).toMatch(/^100755 /);
      expect(gitOut(project, ["ls-files"]).split("\n").sort()).toEqual([
        ".gitignore",
        "index.html",
        "src/run.sh",
      ]);
      trees.add(gitOut(project, ["rev-parse", "HEAD^{tree}"]));
    }
    expect(trees.size).toBe(1);
  });
});
