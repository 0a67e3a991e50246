import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FileChange } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileEvents } from "../files/events.ts";
import { ProjectStorage } from "../projects/storage.ts";
import { DisabledDriver, LocalDriver, SandboxUnavailableError } from "../sandbox/index.ts";
import { initRepository } from "../templates/git.ts";
import { ProjectHistory } from "./service.ts";

/**
 * Checkpoints on real git in the real sandbox (as root, like CI), plus the host fallback used when the
 * host cannot sandbox. Each test gets its own project repository.
 */

let root: string;
let storage: ProjectStorage;
let driver: LocalDriver;
let events: FileEvents;
let history: ProjectHistory;
const changes: FileChange[] = [];
const orgId = randomUUID();

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kiln-history-test-"));
  storage = new ProjectStorage(path.join(root, "data"));
  driver = new LocalDriver();
  events = new FileEvents();
  events.on((change) => changes.push(change));
  history = new ProjectHistory({ storage, driver, events });
});

afterAll(async () => {
  history?.close();
  driver?.close();
  await rm(root, { recursive: true, force: true });
});

/** A project as creation leaves it: files, Kiln's .gitignore, one commit on main. */
async function newProject(files: Record<string, string> = { "README.md": "# App\n", "src/app.js": "one\n" }) {
  const target = { orgId, projectId: randomUUID() };
  const dir = await storage.createProject(orgId, target.projectId);
  await writeFile(path.join(dir, ".gitignore"), "node_modules/\n.kiln/\n.env\n");
  for (const [name, content] of Object.entries(files)) await put(dir, name, content);
  await initRepository(dir, "Create project");
  return { target, dir };
}

/**
 * A work branch as a worker pushes it: one commit on HEAD that sets `file` to `content`, made with host git
 * in this test's own repository (plumbing, a separate index: the working tree and index stay as they were).
 */
function branchWith(dir: string, branch: string, file: string, content: string): void {
  const env = { ...process.env, GIT_INDEX_FILE: path.join(dir, ".git/branch-index") };
  // Input only where git reads it: a git that exits without reading its stdin fails the write (EPIPE).
  const gitWith = (input: string, ...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], { env, encoding: "utf8", input }).trim();
  const git = (...args: string[]) => gitWith("", ...args);
  git("read-tree", "HEAD");
  const blob = gitWith(content, "hash-object", "-w", "--stdin");
  git("update-index", "--add", "--cacheinfo", `100644,${blob},${file}`);
  const tree = git("write-tree");
  const commit = git(
    "-c",
    "user.name=w",
    "-c",
    "user.email=w@x",
    "commit-tree",
    tree,
    "-p",
    "HEAD",
    "-m",
    "work",
  );
  git("update-ref", `refs/heads/${branch}`, commit);
  execFileSync("rm", ["-f", path.join(dir, ".git/branch-index")]);
}

async function put(dir: string, name: string, content: string) {
  await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
  await writeFile(path.join(dir, name), content);
}

/** The project's files (not .git, node_modules or .kiln) and their contents. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      if ([".git", "node_modules", ".kiln"].includes(name)) continue;
      if (lstatSync(path.join(dir, p)).isDirectory()) walk(p);
      else out[p] = readFileSync(path.join(dir, p), "utf8");
    }
  };
  walk("");
  return out;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

describe("checkpoint", () => {
  it("commits every change as one commit with the chat trailers, and nothing when nothing changed", async () => {
    const { target, dir } = await newProject();
    expect(await history.checkpoint(target, { message: "nothing to save" })).toBeNull();

    await put(dir, "src/app.js", "two\n");
    await put(dir, "src/new.js", "new\n");
    await rm(path.join(dir, "README.md"));
    await put(dir, "node_modules/dep/index.js", "ignored\n");
    await put(dir, ".kiln/vite/cache", "ignored\n");
    await put(dir, ".env", "SECRET=1\n");
    const chatId = randomUUID();
    const messageId = randomUUID();
    const saved = await history.checkpoint(target, {
      message: `Add a page\n\nKiln-Message: ${randomUUID()}\nKiln-Restore: ${"a".repeat(40)}`,
      chatId,
      messageId,
      author: "Ann <ann@example.com>",
    });
    expect(saved).toMatchObject({
      message: "Add a page",
      author: "Ann ann@example.com",
      chatId,
      messageId,
      restoredFrom: null,
      filesChanged: 3,
      stats: { filesChanged: 3, insertions: 2, deletions: 2 },
    });
    expect(saved!.sha).toMatch(/^[0-9a-f]{40}$/);

    const page = await history.list(target);
    expect(page.checkpoints.map((c) => c.message)).toEqual(["Add a page", "Create project"]);
    expect(page.checkpoints[0]!.parentSha).toBe(page.checkpoints[1]!.sha);
    const diff = await history.diff(target, saved!.sha);
    expect(diff.files.map((f) => [f.path, f.status]).sort()).toEqual([
      ["README.md", "deleted"],
      ["src/app.js", "modified"],
      ["src/new.js", "added"],
    ]);
    expect(await history.checkpoint(target, { message: "again" })).toBeNull();
  });

  it("never saves node_modules or .kiln, even when .gitignore is gone", async () => {
    const { target, dir } = await newProject();
    await rm(path.join(dir, ".gitignore"));
    await put(dir, "node_modules/x/index.js", "dep\n");
    await put(dir, "packages/a/node_modules/y.js", "dep\n");
    await put(dir, ".kiln/cache", "cache\n");
    const saved = await history.checkpoint(target, { message: "drop gitignore" });
    const diff = await history.diff(target, saved!.sha);
    expect(diff.files.map((f) => f.path)).toEqual([".gitignore"]);
  });

  it("refuses malformed chat and message ids", async () => {
    const { target } = await newProject();
    expect(await codeOf(history.checkpoint(target, { message: "x", messageId: "a\nKiln-Chat: b" }))).toBe(
      "validation_failed",
    );
  });
});

describe("list and diff", () => {
  it("pages through history with before, and diffs renames, binaries and big files", async () => {
    const { target, dir } = await newProject({ "a.txt": "a\nb\nc\nd\ne\n" });
    const shas: string[] = [];
    for (let i = 0; i < 5; i++) {
      await put(dir, `n${i}.txt`, `${i}\n`);
      shas.push((await history.checkpoint(target, { message: `step ${i}` }))!.sha);
    }
    const first = await history.list(target, { limit: 2 });
    expect(first.checkpoints.map((c) => c.message)).toEqual(["step 4", "step 3"]);
    const second = await history.list(target, { limit: 2, before: first.nextBefore! });
    expect(second.checkpoints.map((c) => c.message)).toEqual(["step 2", "step 1"]);
    const last = await history.list(target, { limit: 2, before: second.nextBefore! });
    expect(last.checkpoints.map((c) => c.message)).toEqual(["step 0", "Create project"]);
    expect(last.nextBefore).toBeNull();

    await rm(path.join(dir, "a.txt"));
    await put(dir, "b.txt", "a\nb\nc\nd\nE\n");
    await writeFile(path.join(dir, "img.bin"), Buffer.from([0, 1, 2, 3, 0, 255]));
    await put(dir, "big.txt", Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join("\n"));
    const saved = await history.checkpoint(target, { message: "mixed" });
    const small = new ProjectHistory({ storage, driver, limits: { diffLinesPerFile: 100 } });
    const diff = await small.diff(target, saved!.sha.slice(0, 12));
    small.close();
    expect(diff.sha).toBe(saved!.sha);
    const byPath = Object.fromEntries(diff.files.map((f) => [f.path, f]));
    expect(byPath["b.txt"]).toMatchObject({
      status: "renamed",
      oldPath: "a.txt",
      additions: 1,
      deletions: 1,
    });
    expect(byPath["b.txt"]!.hunks[0]!.lines).toEqual([" b", " c", " d", "-e", "+E"]);
    expect(byPath["img.bin"]).toMatchObject({ binary: true, additions: null, hunks: [], truncated: false });
    expect(byPath["big.txt"]).toMatchObject({ additions: 20_000, truncated: true });
    expect(byPath["big.txt"]!.hunks[0]!.lines).toHaveLength(100);
    expect(diff.truncated).toBe(true);

    const root = (await history.list(target, { limit: 200 })).checkpoints.at(-1)!;
    const initial = await history.diff(target, root.sha);
    expect(initial.parentSha).toBeNull();
    expect(initial.files.map((f) => [f.path, f.status])).toContainEqual(["a.txt", "added"]);
  });

  it("cuts a huge diff at the byte cap and says so", async () => {
    const { target, dir } = await newProject();
    for (let i = 0; i < 30; i++) await put(dir, `f${i}.txt`, `${"x".repeat(100)}\n`.repeat(50));
    const saved = await history.checkpoint(target, { message: "many" });
    const capped = new ProjectHistory({ storage, driver, limits: { diffBytes: 20_000 } });
    const diff = await capped.diff(target, saved!.sha);
    capped.close();
    expect(diff.truncated).toBe(true);
    expect(diff.files).toHaveLength(30);
    expect(diff.files.filter((f) => f.hunks.length > 0).length).toBeLessThan(30);
    expect(diff.files.at(-1)!.truncated).toBe(true);
  });

  it("answers hostile and foreign commit ids with a validation error or not found, running nothing", async () => {
    const { target, dir } = await newProject();
    const other = await newProject({ "other.txt": "other\n" });
    const foreign = (await history.list(other.target)).checkpoints[0]!.sha;
    for (const sha of [
      "--upload-pack=touch /workspace/pwned",
      "HEAD~1; rm -rf /",
      "HEAD",
      "main",
      "ZZZZZZZ",
      "abc",
    ]) {
      expect(await codeOf(history.diff(target, sha)), sha).toBe("validation_failed");
      expect(await codeOf(history.restore(target, sha)), sha).toBe("validation_failed");
      expect(await codeOf(history.list(target, { before: sha })), sha).toBe("validation_failed");
    }
    for (const sha of [foreign, "0".repeat(40), "deadbeef"]) {
      expect(await codeOf(history.diff(target, sha)), sha).toBe("checkpoint_not_found");
      expect(await codeOf(history.restore(target, sha)), sha).toBe("checkpoint_not_found");
      expect(await codeOf(history.list(target, { before: sha })), sha).toBe("checkpoint_not_found");
    }
    expect(existsSync(path.join(dir, "pwned"))).toBe(false);
    expect(Object.keys(snapshot(dir)).sort()).toEqual([".gitignore", "README.md", "src/app.js"]);
  });
});

describe("restore and undo", () => {
  it("writes an older tree back as a new commit, owned by the sandbox uid, and can itself be undone", async () => {
    const { target, dir } = await newProject();
    const created = snapshot(dir);
    await put(dir, "src/app.js", "two\n");
    await put(dir, "src/deep/new.js", "new\n");
    const turn = await history.checkpoint(target, { message: "turn", messageId: randomUUID() });
    const afterTurn = snapshot(dir);
    const initial = turn!.parentSha!;

    changes.length = 0;
    const restored = await history.restore(target, initial);
    expect(snapshot(dir)).toEqual(created);
    expect(existsSync(path.join(dir, "src/deep"))).toBe(false);
    expect(restored).toMatchObject({
      restoredTo: initial,
      savedChanges: null,
      checkpoint: {
        message: `Restore to ${initial.slice(0, 7)}`,
        restoredFrom: initial,
        parentSha: turn!.sha,
      },
    });
    expect(restored.changedPaths.sort()).toEqual(["src/app.js", "src/deep/new.js"]);
    expect(changes).toEqual([
      { orgId, projectId: target.projectId, kind: "written", paths: ["src/app.js"] },
      { orgId, projectId: target.projectId, kind: "deleted", paths: ["src/deep/new.js"] },
    ]);
    const owner = driver.workspaceOwner(target.projectId)!;
    for (const p of ["src/app.js", "src", ".git/index", ".git/HEAD"]) {
      expect(statSync(path.join(dir, p)).uid, p).toBe(owner.uid);
    }
    for (const name of readdirSync(path.join(dir, ".git/objects"))) {
      expect(statSync(path.join(dir, ".git/objects", name)).uid, name).toBe(owner.uid);
    }

    // History only grows: the turn is still there, and restoring it brings its files back.
    const messages = (await history.list(target)).checkpoints.map((c) => c.message);
    expect(messages).toEqual([`Restore to ${initial.slice(0, 7)}`, "turn", "Create project"]);
    await history.restore(target, turn!.sha);
    expect(snapshot(dir)).toEqual(afterTurn);
    // Restoring to where the files already are records nothing.
    const again = await history.restore(target, turn!.sha);
    expect(again).toMatchObject({ checkpoint: null, changedPaths: [] });
  });

  it("refuses with uncommitted changes unless forced, and then saves them first", async () => {
    const { target, dir } = await newProject();
    const initial = (await history.list(target)).checkpoints[0]!.sha;
    await put(dir, "src/app.js", "agent\n");
    await history.checkpoint(target, { message: "turn" });
    await put(dir, "src/app.js", "typed by hand\n");
    await put(dir, "notes.txt", "untracked\n");

    expect(await codeOf(history.restore(target, initial))).toBe("uncommitted_changes");
    expect(readFileSync(path.join(dir, "src/app.js"), "utf8")).toBe("typed by hand\n");

    const forced = await history.restore(target, initial, { force: true });
    expect(forced.savedChanges).toMatchObject({
      message: "Uncommitted changes before restore",
      filesChanged: 2,
    });
    expect(readFileSync(path.join(dir, "src/app.js"), "utf8")).toBe("one\n");
    expect(existsSync(path.join(dir, "notes.txt"))).toBe(false);
    // Nothing was lost: the hand-typed state is a checkpoint that can be restored.
    await history.restore(target, forced.savedChanges!.sha);
    expect(readFileSync(path.join(dir, "src/app.js"), "utf8")).toBe("typed by hand\n");
    expect(readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("untracked\n");
  });

  it("undoes a message's turn back to the state before its first checkpoint", async () => {
    const { target, dir } = await newProject();
    const created = snapshot(dir);
    const messageId = randomUUID();
    await put(dir, "a.txt", "first save of the turn\n");
    await history.checkpoint(target, { message: "turn part 1", messageId });
    await put(dir, "b.txt", "second save of the turn\n");
    await history.checkpoint(target, { message: "turn part 2", messageId });

    const undone = await history.undo(target, messageId);
    expect(snapshot(dir)).toEqual(created);
    expect(undone.checkpoint?.message).toBe('Undo "turn part 1"');
    expect(undone.checkpoint?.messageId).toBeNull();

    expect(await codeOf(history.undo(target, randomUUID()))).toBe("checkpoint_not_found");
    expect(await codeOf(history.undo(target, "--all"))).toBe("checkpoint_not_found");
    expect(await codeOf(history.undo(target, "x; rm -rf /"))).toBe("validation_failed");
    await put(dir, "c.txt", "dirty\n");
    expect(await codeOf(history.undo(target, messageId))).toBe("uncommitted_changes");
  });

  it("serialises concurrent restores and checkpoints of one project", async () => {
    const { target, dir } = await newProject();
    const initial = (await history.list(target)).checkpoints[0]!.sha;
    await put(dir, "src/app.js", "two\n");
    const two = (await history.checkpoint(target, { message: "two" }))!.sha;
    await put(dir, "src/app.js", "three\n");
    await history.checkpoint(target, { message: "three" });

    const results = await Promise.allSettled([
      history.restore(target, initial),
      history.restore(target, two),
      history.checkpoint(target, { message: "between" }),
      history.restore(target, initial),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    expect(readFileSync(path.join(dir, "src/app.js"), "utf8")).toBe("one\n");
    const messages = (await history.list(target)).checkpoints.map((c) => c.message);
    const short = (sha: string) => sha.slice(0, 7);
    expect(messages.slice(0, 3)).toEqual([
      `Restore to ${short(initial)}`,
      `Restore to ${short(two)}`,
      `Restore to ${short(initial)}`,
    ]);
  });

  it("reports a project whose .git is missing or a link as having no history", async () => {
    const { target, dir } = await newProject();
    await rm(path.join(dir, ".git"), { recursive: true });
    const elsewhere = await newProject();
    await symlink(path.join(elsewhere.dir, ".git"), path.join(dir, ".git"));
    expect(await codeOf(history.list(target))).toBe("history_unavailable");
    await rm(path.join(dir, ".git"));
    expect(await codeOf(history.checkpoint(target, { message: "x" }))).toBe("history_unavailable");
  });
});

describe("merge", () => {
  it("merges a branch over a file whose index entry has stale stat data (no checkpoint since creation)", async () => {
    // Creation writes the index before the tree is handed to the project's uid, so its stat data no longer
    // matches (issue #12: "Entry 'src/App.tsx' not uptodate. Cannot merge." on a project nobody chatted in).
    const { target, dir } = await newProject();
    branchWith(dir, "kiln/task-1", "src/app.js", "merged\n");
    const later = new Date(Date.now() + 5_000);
    await utimes(path.join(dir, "src/app.js"), later, later);
    const { merged } = await history.mergeBranch(target, "kiln/task-1", "Merge task 1");
    expect(merged).not.toBeNull();
    expect(readFileSync(path.join(dir, "src/app.js"), "utf8")).toBe("merged\n");
  });
});

/**
 * `.git` is writable by the project's code, so it may hold config, hooks and attributes that name programs.
 * None may run when Kiln uses the repository — neither in the sandbox nor, without a sandbox, on the host.
 */
describe.each([
  ["in the sandbox", () => history],
  ["on the host (no sandbox)", () => hostHistory],
])("a hostile repository %s", (_name, current) => {
  it("runs none of its hooks, filters, fsmonitor, pagers or diff drivers, and cannot redirect git", async () => {
    const h = current();
    const { target, dir } = await newProject();
    branchWith(dir, "kiln/hostile", "merged.txt", "merged\n");
    const markers = await mkdtemp(path.join(os.tmpdir(), "kiln-history-markers-"));
    await chmod(markers, 0o777);
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), "kiln-history-elsewhere-"));
    await writeFile(path.join(elsewhere, "secret.txt"), "host secret\n");
    // Double-quoted: in a git config file an unquoted ";" starts a comment.
    const evil = (name: string) =>
      `"sh -c 'touch ${markers}/${name} /workspace/PWNED-${name} PWNED-${name} 2>/dev/null; cat'"`;
    const hook = (name: string) =>
      `#!/bin/sh\ntouch ${markers}/hook-${name} /workspace/PWNED-hook-${name} 2>/dev/null\nexit 0\n`;
    const hooksDir = path.join(dir, ".git/hooks");
    for (const name of [
      "pre-commit",
      "post-commit",
      "post-checkout",
      "post-index-change",
      "reference-transaction",
      "pre-auto-gc",
      "fsmonitor-watchman",
    ]) {
      await writeFile(path.join(hooksDir, name), hook(name), { mode: 0o755 });
    }
    await writeFile(path.join(dir, ".git/included"), `[core]\n\tpager = ${evil("included-pager")}\n`);
    await writeFile(
      path.join(dir, ".git/config"),
      `${await readFile(path.join(dir, ".git/config"), "utf8")}
[include]
\tpath = included
[core]
\thooksPath = .git/hooks
\tfsmonitor = ${path.join(hooksDir, "fsmonitor-watchman")}
\tpager = ${evil("pager")}
\teditor = ${evil("editor")}
\tsshCommand = ${evil("ssh")}
\tworktree = ${elsewhere}
\tattributesFile = ${path.join(dir, ".git/evil-attributes")}
[filter "evil.x"]
\tclean = ${evil("clean")}
\tsmudge = ${evil("smudge")}
\trequired = true
[filter "lfs"]
\tprocess = ${evil("process")}
[diff]
\texternal = ${evil("external-diff")}
[diff "evil"]
\ttextconv = ${evil("textconv")}
\tcommand = ${evil("diff-command")}
[log]
\tshowSignature = true
[gpg]
\tprogram = ${evil("gpg")}
[gc]
\tauto = 1
[alias]
\tstatus = !${evil("alias")}
`,
    );
    await writeFile(path.join(dir, ".gitattributes"), "*.js filter=evil.x diff=evil\n*.md filter=lfs\n");
    await mkdir(path.join(dir, ".git/info"), { recursive: true });
    await writeFile(path.join(dir, ".git/info/attributes"), "*.txt filter=evil.x diff=evil\n");

    await put(dir, "src/app.js", "two\n");
    await put(dir, "README.md", "# Changed\n");
    const saved = await h.checkpoint(target, { message: "through a hostile repo" });
    expect(saved).not.toBeNull();
    await h.list(target);
    const diff = await h.diff(target, saved!.sha);
    // The working tree is the project, not core.worktree's directory.
    expect(diff.files.map((f) => f.path)).not.toContain("secret.txt");
    expect(diff.files.find((f) => f.path === "src/app.js")!.hunks[0]!.lines).toEqual(["-one", "+two"]);
    await h.restore(target, saved!.parentSha!);
    expect(readFileSync(path.join(dir, "src/app.js"), "utf8")).toBe("one\n");
    await h.undo(target, randomUUID()).catch(() => {});
    // A merge refreshes the index first (update-index --refresh): still no hook, fsmonitor or filter.
    await h.mergeBranch(target, "kiln/hostile", "Merge hostile");
    expect(readFileSync(path.join(dir, "merged.txt"), "utf8")).toBe("merged\n");

    expect(readdirSync(markers)).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.startsWith("PWNED"))).toEqual([]);
    expect(readdirSync(elsewhere)).toEqual(["secret.txt"]);
    await rm(markers, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
  });
});

let hostHistory: ProjectHistory;
beforeAll(() => {
  const disabled = new DisabledDriver(new SandboxUnavailableError(["test: no sandbox"]));
  hostHistory = new ProjectHistory({ storage, driver: disabled });
});
afterAll(() => hostHistory?.close());
