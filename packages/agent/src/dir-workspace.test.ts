import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import nodePath from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirWorkspace } from "./dir-workspace.ts";
import { type TestWorkspace, tempWorkspace } from "./testing/harness.ts";
import { VerifiedDir } from "./verified-dir.ts";
import { WorkspaceError } from "./workspace.ts";

let t: TestWorkspace;
let outside: string;

beforeAll(async () => {
  t = await tempWorkspace({
    "src/a.ts": "export const a = 1;\n",
    "src/b.tsx": "const b = 'hello';\n",
    "node_modules/x/index.js": "module.exports = 1;\n",
    ".git/config": "[core]\n",
    "README.md": "# hi\nhello world\n",
  });
  outside = await mkdtemp(nodePath.join(tmpdir(), "kiln-outside-"));
  await writeFile(nodePath.join(outside, "secret.txt"), "TOP SECRET\n");
  await symlink(outside, nodePath.join(t.root, "escape-dir"));
  await symlink(nodePath.join(outside, "secret.txt"), nodePath.join(t.root, "escape-file"));
  await symlink("src/a.ts", nodePath.join(t.root, "inner-link"));
  await symlink(".git/config", nodePath.join(t.root, "git-link"));
  await symlink("nowhere", nodePath.join(t.root, "dangling"));
});
afterAll(async () => {
  await t.dispose();
  await rm(outside, { recursive: true, force: true });
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof WorkspaceError) return err.code;
    throw err;
  }
}

describe("DirWorkspace path checks", () => {
  it.each([
    ["../etc/passwd", "path_outside_project"],
    ["src/../../x", "path_outside_project"],
    ["/etc/passwd", "path_invalid"],
    ["src\\a.ts", "path_invalid"],
    ["src//a.ts", "path_invalid"],
    ["a\u0000b", "path_invalid"],
    ["．．/x", "path_outside_project"],
    [".git/config", "path_reserved"],
    [".GIT/config", "path_reserved"],
    ["git-link", "path_reserved"],
    ["escape-file", "path_outside_project"],
    ["escape-dir/secret.txt", "path_outside_project"],
    ["dangling", "file_not_found"],
  ])("refuses to read %j (%s)", async (path, expected) => {
    expect(await code(t.workspace.readFile(path))).toBe(expected);
  });

  it("refuses an oversized path", async () => {
    expect(await code(t.workspace.readFile("x".repeat(2000)))).toBe("path_invalid");
    expect(await code(t.workspace.writeFile(`${"y".repeat(300)}.txt`, ""))).toBe("path_invalid");
  });

  it("never writes outside through a symlinked directory or file", async () => {
    expect(await code(t.workspace.writeFile("escape-dir/new.txt", "x"))).toBe("path_outside_project");
    expect(await code(t.workspace.writeFile("escape-file", "overwritten"))).toBe("path_outside_project");
    expect(await code(t.workspace.writeFile("../x.txt", "x"))).toBe("path_outside_project");
    expect(await readFile(nodePath.join(outside, "secret.txt"), "utf8")).toBe("TOP SECRET\n");
    expect(await readdir(outside)).toEqual(["secret.txt"]);
  });

  it("follows a symlink that stays inside the project", async () => {
    expect(await t.workspace.readFile("inner-link")).toBe("export const a = 1;\n");
  });

  it("deletes a link itself, not what it points to", async () => {
    await symlink(nodePath.join(outside, "secret.txt"), nodePath.join(t.root, "to-delete"));
    await t.workspace.deleteFile("to-delete");
    expect(await readFile(nodePath.join(outside, "secret.txt"), "utf8")).toBe("TOP SECRET\n");
    await expect(lstat(nodePath.join(t.root, "to-delete"))).rejects.toThrow(/ENOENT/);
  });
});

describe("VerifiedDir (the check-then-use race)", () => {
  it("fails instead of following a directory that became a symlink after the path was checked", async () => {
    const root = await realpath(t.root);
    await symlink(outside, nodePath.join(root, "swapped"));
    expect(await code(VerifiedDir.open(root, ["swapped"]))).toBe("path_outside_project");
    expect(await code(VerifiedDir.open(root, ["swapped"], { create: true }))).toBe("path_outside_project");
    const inside = await VerifiedDir.open(root, ["src"]);
    expect(await readFile(inside.child("a.ts"), "utf8")).toBe("export const a = 1;\n");
    await inside.close();
  });
});

describe("DirWorkspace files", () => {
  it("writes atomically, creates parents, reports created, keeps the file mode", async () => {
    expect(await t.workspace.writeFile("new/deep/file.txt", "one")).toEqual({ created: true });
    await chmod(nodePath.join(t.root, "new/deep/file.txt"), 0o755);
    expect(await t.workspace.writeFile("new/deep/file.txt", "two")).toEqual({ created: false });
    expect(await readFile(nodePath.join(t.root, "new/deep/file.txt"), "utf8")).toBe("two");
    expect((await stat(nodePath.join(t.root, "new/deep/file.txt"))).mode & 0o777).toBe(0o755);
    expect((await readdir(nodePath.join(t.root, "new/deep"))).filter((n) => n.includes(".kiln-"))).toEqual(
      [],
    );
  });

  it("refuses directories, binary files and files over the limit with their codes", async () => {
    await writeFile(nodePath.join(t.root, "bin.dat"), Buffer.from([1, 0, 2, 3]));
    await writeFile(nodePath.join(t.root, "latin1.txt"), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const small = new DirWorkspace({ root: t.root, maxReadBytes: 5 });
    expect(await code(t.workspace.readFile("src"))).toBe("is_a_directory");
    expect(await code(t.workspace.readFile("bin.dat"))).toBe("file_binary");
    expect(await code(t.workspace.readFile("latin1.txt"))).toBe("file_binary");
    expect(await code(small.readFile("README.md"))).toBe("file_too_large");
    expect(await code(t.workspace.writeFile("src", "x"))).toBe("is_a_directory");
    expect(await code(t.workspace.writeFile("README.md/x", "x"))).toBe("not_a_directory");
    expect(await code(t.workspace.deleteFile("src"))).toBe("is_a_directory");
    expect(await code(t.workspace.deleteFile("missing.txt"))).toBe("file_not_found");
  });

  it("lists depth-first and sorted, skipping .git and node_modules unless asked by name", async () => {
    const { entries } = await t.workspace.list("", { recursive: true });
    const paths = entries.map((e) => e.path);
    expect(paths).toContain("src/a.ts");
    expect(paths.some((p) => p.startsWith("node_modules") || p.startsWith(".git"))).toBe(false);
    expect(paths.indexOf("src")).toBeLessThan(paths.indexOf("src/a.ts"));
    expect(entries.find((e) => e.path === "escape-dir")?.type).toBe("symlink");
    expect(paths.some((p) => p.startsWith("escape-dir/"))).toBe(false);
    const modules = await t.workspace.list("node_modules", { recursive: true });
    expect(modules.entries.map((e) => e.path)).toEqual(["node_modules/x", "node_modules/x/index.js"]);
    const limited = await t.workspace.list("", { recursive: true, limit: 2 });
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.entries).toHaveLength(2);
    expect(await code(t.workspace.list(".git"))).toBe("path_reserved");
    expect(await code(t.workspace.list("escape-dir"))).toBe("path_outside_project");
  });
});

describe("DirWorkspace grep", () => {
  it("finds lines, honours path and glob, skips node_modules and .git", async () => {
    const all = await t.workspace.grep("hello");
    expect(all.matches.map((m) => `${m.path}:${m.line}`)).toEqual(["README.md:2", "src/b.tsx:1"]);
    expect((await t.workspace.grep("hello", { glob: "*.tsx" })).matches).toHaveLength(1);
    expect((await t.workspace.grep("HELLO", { ignoreCase: true, path: "src" })).matches).toHaveLength(1);
    expect((await t.workspace.grep("module|core")).matches).toEqual([]);
    expect((await t.workspace.grep("e", { limit: 1 })).truncated).toBe(true);
  });

  it("reports an invalid pattern and stops a catastrophic one", async () => {
    await expect(t.workspace.grep("(")).rejects.toThrow(/invalid regular expression/);
    await mkdir(nodePath.join(t.root, "redos"));
    await writeFile(nodePath.join(t.root, "redos/x.txt"), `${"a".repeat(40)}!\n`);
    const slow = new DirWorkspace({ root: t.root, grepTimeoutMs: 300 });
    await expect(slow.grep("^(a+)+$", { path: "redos" })).rejects.toThrow(/took longer/);
  });
});

describe("DirWorkspace exec", () => {
  it("says clearly when it cannot run commands", async () => {
    const bare = new DirWorkspace({ root: t.root });
    expect(await code(bare.exec("true"))).toBe("unavailable");
    expect(bare.openShell).toBeUndefined();
  });

  it("checks the working directory like any path", async () => {
    expect(await code(t.workspace.exec("pwd", { cwd: "../" }))).toBe("path_outside_project");
    expect(await code(t.workspace.exec("pwd", { cwd: "escape-dir" }))).toBe("path_outside_project");
    const result = await t.workspace.exec("pwd", { cwd: "src" });
    expect(result.stdout.trim()).toBe(
      nodePath.join(await import("node:fs/promises").then((fs) => fs.realpath(t.root)), "src"),
    );
  });
});

describe.skipIf(process.getuid?.() !== 0)("DirWorkspace with an owner", () => {
  it("gives what it creates to the owner through descriptors and replaces a hard-linked file, never writing it", async () => {
    const root = await mkdtemp(nodePath.join(tmpdir(), "kiln-owned-"));
    const shared = nodePath.join(root, "shared.js");
    await writeFile(shared, "shared\n", { mode: 0o444 });
    const project = nodePath.join(root, "project");
    await mkdir(nodePath.join(project, "node_modules", "pkg"), { recursive: true });
    await link(shared, nodePath.join(project, "node_modules", "pkg", "index.js"));
    const owner = { uid: 201_555, gid: 201_555 };
    const ws = new DirWorkspace({ root: project, owner });

    expect(await ws.writeFile("a/b/c.txt", "c")).toEqual({ created: true });
    for (const rel of ["a", "a/b", "a/b/c.txt"]) {
      expect((await lstat(nodePath.join(project, rel))).uid, rel).toBe(owner.uid);
    }
    await ws.writeFile("node_modules/pkg/index.js", "mine\n");
    const mine = await lstat(nodePath.join(project, "node_modules", "pkg", "index.js"));
    expect([mine.uid, mine.nlink]).toEqual([owner.uid, 1]);
    const after = await lstat(shared);
    expect([after.uid, after.nlink, await readFile(shared, "utf8")]).toEqual([0, 1, "shared\n"]);
    await rm(root, { recursive: true, force: true });
  });
});
