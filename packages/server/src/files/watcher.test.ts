import { mkdir, mkdtemp, realpath, rename, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ChangeBatch, ProjectWatcher, type WatcherOptions } from "./watcher.ts";

const open: ProjectWatcher[] = [];
afterEach(() => {
  for (const w of open.splice(0)) w.close();
});

async function watched(options: WatcherOptions = {}) {
  const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "kiln-watch-")));
  const root = path.join(base, "project");
  const outside = path.join(base, "outside");
  await mkdir(path.join(root, "src"), { recursive: true });
  await mkdir(outside);
  await mkdir(path.join(root, "node_modules/pkg"), { recursive: true });
  await mkdir(path.join(root, ".git/objects"), { recursive: true });
  await mkdir(path.join(root, ".kiln/vite"), { recursive: true });
  const batches: ChangeBatch[] = [];
  const watcher = new ProjectWatcher(root, (b) => batches.push(b), { debounceMs: 20, ...options });
  open.push(watcher);
  await watcher.start();
  const seen = () => new Set(batches.flatMap((b) => b.paths));
  /** Waits until every path was reported (or fails after 3 s with what was). */
  const until = async (...paths: string[]) => {
    const end = Date.now() + 3_000;
    while (!paths.every((p) => seen().has(p)) && Date.now() < end) await sleep(10);
    expect([...seen()]).toEqual(expect.arrayContaining(paths));
  };
  /** Lets every event of what was done so far arrive, then forgets the batches. */
  const settle = async () => {
    await sleep(150);
    batches.length = 0;
  };
  return { root, outside, watcher, batches, seen, until, settle };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("project watcher", () => {
  it("reports writes, new directories and what is made in them, deletes and moves, in batches", async () => {
    const { root, watcher, batches, until } = await watched();
    expect(watcher.directories).toBe(2); // the root and src; not node_modules, .git or .kiln
    await writeFile(path.join(root, "src/App.tsx"), "x");
    await writeFile(path.join(root, "README.md"), "x");
    await until("src/App.tsx", "README.md");
    expect(batches.length).toBeLessThanOrEqual(2);

    await mkdir(path.join(root, "src/components"));
    await until("src/components");
    // The new directory is watched: a file made in it later is reported by its path.
    await sleep(50);
    await writeFile(path.join(root, "src/components/Button.tsx"), "x");
    await until("src/components/Button.tsx");

    await rename(path.join(root, "src/components"), path.join(root, "src/ui"));
    await until("src/components", "src/ui");
    await sleep(50);
    await writeFile(path.join(root, "src/ui/Card.tsx"), "x");
    await until("src/ui/Card.tsx");
    await rm(path.join(root, "README.md"));
    await until("README.md");
    expect(batches.every((b) => !b.overflow)).toBe(true);
  });

  it("reports dependency, git and cache directories appearing, never what happens inside them", async () => {
    const { root, seen, settle, until } = await watched();
    await writeFile(path.join(root, "node_modules/pkg/index.js"), "x");
    await writeFile(path.join(root, ".git/objects/ab"), "x");
    await writeFile(path.join(root, ".kiln/vite/deps.json"), "x");
    await mkdir(path.join(root, "src/node_modules/x"), { recursive: true });
    await until("src/node_modules");
    await writeFile(path.join(root, "src/node_modules/x/y.js"), "x");
    await sleep(150);
    expect([...seen()].filter((p) => p.includes("node_modules/") || p.includes("/"))).toEqual([
      "src/node_modules",
    ]);
    await settle();
  });

  it("never follows a symlink out of the project, also when a watched directory is swapped for one", async () => {
    const { root, outside, seen, until, settle } = await watched();
    await symlink(outside, path.join(root, "link"));
    await until("link");
    await settle();
    await writeFile(path.join(outside, "secret.txt"), "x");
    await sleep(150);
    expect([...seen()]).toEqual([]);

    // `src` is watched; code in the sandbox replaces it with a symlink to a directory outside.
    await rm(path.join(root, "src"), { recursive: true });
    await symlink(outside, path.join(root, "src"));
    await until("src");
    await settle();
    await writeFile(path.join(outside, "other.txt"), "x");
    await sleep(150);
    expect([...seen()]).toEqual([]);
  });

  it("leaves out the file API's temp files, and says overflow when too much changed to list", async () => {
    const { root, batches, until, settle } = await watched({ maxPaths: 5 });
    await writeFile(path.join(root, ".App.tsx.kiln-0123456789ab.tmp"), "x");
    await rename(path.join(root, ".App.tsx.kiln-0123456789ab.tmp"), path.join(root, "App.tsx"));
    await until("App.tsx");
    expect(batches.flatMap((b) => b.paths)).toEqual(["App.tsx"]);
    await settle();
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFile(path.join(root, `f${i}.txt`), "x")));
    const end = Date.now() + 3_000;
    while (!batches.some((b) => b.overflow) && Date.now() < end) await sleep(10);
    expect(batches.some((b) => b.overflow && b.paths.length === 0)).toBe(true);
  });

  it("watches a bounded number of directories and reports overflow past it", async () => {
    const { root, watcher, batches } = await watched({ maxDirectories: 4 });
    for (let i = 0; i < 6; i++) await mkdir(path.join(root, `d${i}`));
    const end = Date.now() + 3_000;
    while (!batches.some((b) => b.overflow) && Date.now() < end) await sleep(10);
    expect(batches.some((b) => b.overflow)).toBe(true);
    expect(watcher.directories).toBeLessThanOrEqual(4);
  });

  it("reports nothing once closed", async () => {
    const { root, watcher, batches } = await watched();
    watcher.close();
    await writeFile(path.join(root, "src/late.ts"), "x");
    await sleep(150);
    expect(batches).toEqual([]);
    expect(watcher.directories).toBe(0);
  });
});
