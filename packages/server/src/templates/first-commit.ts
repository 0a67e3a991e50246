import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { copyTemplate, writeGitignore } from "./copy.ts";
import { git, initRepository, KILN_AUTHOR } from "./git.ts";
import type { LoadedTemplate } from "./registry.ts";

/** A template's first commit, less the commit object: the same for every project made from it. */
interface Seed {
  tree: string;
  /** Loose objects (`ab/cdef…` → deflated bytes) and the index, as git wrote them for the seed. */
  objects: Array<[string, Buffer]>;
  index: Buffer;
}

const CONFIG =
  "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n";

/**
 * Writes a new project's `.git` with its first commit on `main` — what `git init; git add --all; git commit`
 * makes, without running git per project. Every project of a template starts from the same tree, so its
 * blobs, tree and index are made once per template (host git, in a private temp directory) and written into
 * each project with only the commit object new. That keeps git off a new project's path to its first
 * preview (the dev server starts once the repository is there: no host git ever runs on a tree a sandbox
 * has had), at a few milliseconds instead of three git processes.
 */
export class FirstCommits {
  readonly #seeds = new Map<string, Promise<Seed>>();

  /** `dir` holds exactly the template's files and `.gitignore` (`copyTemplate` + `writeGitignore`). */
  async write(template: LoadedTemplate, dir: string, message: string): Promise<void> {
    const seed = await this.#seed(template);
    const gitDir = path.join(dir, ".git");
    for (const sub of ["objects/info", "objects/pack", "refs/heads", "refs/tags"]) {
      await mkdir(path.join(gitDir, sub), { recursive: true });
    }
    await writeFile(path.join(gitDir, "HEAD"), "ref: refs/heads/main\n", { flag: "wx" });
    await writeFile(path.join(gitDir, "config"), CONFIG, { flag: "wx" });
    const seconds = Math.floor(Date.now() / 1000);
    const who = `${KILN_AUTHOR.name} <${KILN_AUTHOR.email}> ${seconds} +0000`;
    const commit = loose("commit", `tree ${seed.tree}\nauthor ${who}\ncommitter ${who}\n\n${message}\n`);
    const objects = [...seed.objects, [commit.name, commit.bytes] as [string, Buffer]];
    const dirs = new Set(objects.map(([name]) => name.slice(0, 2)));
    await Promise.all([...dirs].map((d) => mkdir(path.join(gitDir, "objects", d))));
    await Promise.all(
      objects.map(([name, bytes]) =>
        writeFile(path.join(gitDir, "objects", name), bytes, { flag: "wx", mode: 0o444 }),
      ),
    );
    // The seed's index: its stat data belongs to the seed's files, so git re-reads each file once.
    await writeFile(path.join(gitDir, "index"), seed.index, { flag: "wx" });
    await writeFile(path.join(gitDir, "refs/heads/main"), `${commit.sha}\n`, { flag: "wx" });
  }

  #seed(template: LoadedTemplate): Promise<Seed> {
    const key = template.manifest.name;
    let seed = this.#seeds.get(key);
    if (!seed) {
      seed = makeSeed(template);
      // A failure is not kept: the next project tries again.
      seed.catch(() => this.#seeds.delete(key));
      this.#seeds.set(key, seed);
    }
    return seed;
  }
}

async function makeSeed(template: LoadedTemplate): Promise<Seed> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kiln-seed-"));
  try {
    await copyTemplate(template.dir, dir);
    await writeGitignore(dir, template.manifest);
    await initRepository(dir, "seed");
    const tree = (await git(dir, ["-c", `safe.directory=${dir}`, "rev-parse", "HEAD^{tree}"])).trim();
    const head = (await git(dir, ["-c", `safe.directory=${dir}`, "rev-parse", "HEAD"])).trim();
    const root = path.join(dir, ".git", "objects");
    const objects: Array<[string, Buffer]> = [];
    for (const sub of await readdir(root)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of await readdir(path.join(root, sub))) {
        // The seed's own commit is not part of it; each project gets its own.
        if (`${sub}${name}` === head) continue;
        objects.push([`${sub}/${name}`, await readFile(path.join(root, sub, name))]);
      }
    }
    return { tree, objects, index: await readFile(path.join(dir, ".git", "index")) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function loose(type: string, body: string): { sha: string; name: string; bytes: Buffer } {
  const content = Buffer.from(body, "utf8");
  const raw = Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]);
  const sha = createHash("sha1").update(raw).digest("hex");
  return { sha, name: `${sha.slice(0, 2)}/${sha.slice(2)}`, bytes: deflateSync(raw) };
}
