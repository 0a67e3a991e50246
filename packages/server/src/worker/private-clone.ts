import { chmod, mkdir } from "node:fs/promises";
import path from "node:path";
import { git, gitOk } from "./git.ts";
import { BASE_BUNDLE, JobGitError } from "./workspace-git.ts";

/** Branch names the worker passes to git and its scripts: what the server hands out (`main`, `kiln/task-…`). */
const BRANCH = /^(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9][A-Za-z0-9._/-]{0,200}$/;

/**
 * The job's own copy of the project: a bare clone in the job's root-only directory, written only by git
 * on this host and by Kiln — no sandbox ever sees it — so host-side git may run on it. It talks to the
 * server over http(s) alone, with the job's token, and takes the sandbox's work only as a bundle.
 */
export class PrivateClone {
  readonly gitDir: string;
  readonly #dir: string;
  readonly #url: string;
  readonly #token: string;
  readonly #protocol: "http" | "https";
  /** The server's checked-out branch. */
  defaultBranch = "";
  /** Every branch tip fetched from the server: the sandbox bundles only what is new against them. */
  tips: string[] = [];

  private constructor(dir: string, url: string, token: string, protocol: "http" | "https") {
    this.#dir = dir;
    this.gitDir = path.join(dir, "repo.git");
    this.#url = url;
    this.#token = token;
    this.#protocol = protocol;
  }

  /** Clones `url` into `<dir>/repo.git`; an error message when the server cannot be cloned. */
  static async create(dir: string, url: string, token: string): Promise<PrivateClone | { error: string }> {
    const scheme = new URL(url).protocol;
    if (scheme !== "http:" && scheme !== "https:") return { error: `not an http(s) repository: ${scheme}` };
    const clone = new PrivateClone(dir, url, token, scheme === "http:" ? "http" : "https");
    const res = await git(dir, ["clone", "--bare", "--quiet", "--no-tags", "--", url, clone.gitDir], {
      token,
      protocols: [clone.#protocol],
    });
    if (res.code !== 0) return { error: res.stderr.trim().slice(-500) };
    const head = (await clone.#git(["symbolic-ref", "-q", "HEAD"])).trim().replace(/^refs\/heads\//, "");
    if (!BRANCH.test(head)) return { error: `the server's default branch has an unexpected name: ${head}` };
    clone.defaultBranch = head;
    const refs = await clone.#git(["for-each-ref", "--format=%(objectname)", "refs/heads/"]);
    clone.tips = [...new Set(refs.split("\n").filter((sha) => /^[0-9a-f]{40}$/.test(sha)))];
    return clone;
  }

  #git(args: string[]): Promise<string> {
    return gitOk(this.#dir, ["--git-dir", this.gitDir, ...args]);
  }

  /** Bundles every branch into a new directory the sandbox may read (mounted read-only); returns it. */
  async bundleBranches(): Promise<string> {
    const inDir = path.join(this.#dir, "in");
    await mkdir(inDir, { mode: 0o755 });
    const file = path.join(inDir, BASE_BUNDLE);
    await this.#git(["bundle", "create", "-q", file, "--branches"]);
    await chmod(file, 0o644);
    return inDir;
  }

  /** Fetches the sandbox's bundle (its `refs/kiln/job`) and checks it holds exactly `commit`. */
  async take(bundle: string, commit: string): Promise<void> {
    const res = await git(
      this.#dir,
      // The objects were made in the sandbox, by whatever ran there: checked as they come in.
      [
        "--git-dir",
        this.gitDir,
        "-c",
        "fetch.fsckObjects=true",
        "fetch",
        "-q",
        "--no-tags",
        "--",
        bundle,
        "+refs/kiln/job:refs/kiln/job",
      ],
      { protocols: ["file"] },
    );
    if (res.code !== 0)
      throw new JobGitError(
        "agent_failed",
        `the job's commits could not be read: ${res.stderr.trim().slice(-500)}`,
      );
    const tip = (await this.#git(["rev-parse", "--verify", "refs/kiln/job^{commit}"])).trim();
    if (tip !== commit)
      throw new JobGitError("agent_failed", `the job's bundle holds ${tip}, not the commit made (${commit})`);
  }

  /** Pushes `commit` (already in this clone) to the job's branch on the server. */
  push(commit: string, branch: string) {
    if (!BRANCH.test(branch)) throw new Error(`unexpected branch name: ${branch}`);
    return git(
      this.#dir,
      ["--git-dir", this.gitDir, "push", "--quiet", "--", this.#url, `${commit}:refs/heads/${branch}`],
      { token: this.#token, protocols: [this.#protocol] },
    );
  }
}
