import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { type AddressPolicy, EgressRefusedError, EgressUnresolvedError } from "@kiln/agent";
import { BRANCH_PATTERN, type GitAuth } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import { splitOnNonce } from "../history/parse.ts";
import { gitEnvironment } from "../history/service.ts";
import { removeAsOwner } from "../sandbox/as-owner.ts";
import type { ExecResult, SandboxDriver } from "../sandbox/driver.ts";
import { takeBundle, tooLarge } from "./bundle-file.ts";
import { FETCH_BUNDLE, FETCH_SCRIPT, IN_MOUNT, PUSH_SCRIPT, REMOTE_EXIT } from "./scripts.ts";
import { checkGitUrl } from "./url.ts";

export interface TransferOptions {
  driver: SandboxDriver;
  /** The one address policy (KILN_EGRESS_ALLOW its exemptions): checked before any sandbox starts. */
  policy: AddressPolicy;
  /** Kiln's own directory for transfers (never a project's). */
  tmpRoot: string;
  /** PEM file of CAs trusted besides the system's (KILN_GIT_CA_FILE). */
  caFile?: string | undefined;
  maxBytes: number;
  timeoutMs: number;
}

/** The sandbox a transfer runs in: the project's (through its org's limits), or an org's for an import. */
export interface TransferSandbox {
  driver: SandboxDriver;
  projectId: string;
}

/** What a fetch found: the branch, its commit, and the root's names and package.json (template detection). */
export interface Fetched {
  branch: string;
  commit: string;
  rootFiles: Map<string, Buffer>;
}

const SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt";

/**
 * One transfer's private directory: `in/` (the CA bundle and the bundles handed to a sandbox, mounted
 * read-only) and `work/` (the network sandbox's /workspace, where it leaves the fetched bundle), under a
 * root-only directory of Kiln's own; removed when the transfer ends (no sandbox of it is running by then).
 */
export class TransferDir {
  readonly root: string;
  readonly inDir: string;
  readonly workDir: string;
  /** The sandbox that ran on `work/` (the driver hands a workspace to the project's user). */
  sandbox: TransferSandbox | undefined;

  constructor(root: string) {
    this.root = root;
    this.inDir = path.join(root, "in");
    this.workDir = path.join(root, "work");
  }

  /**
   * What is in `work/` was the sandbox's to write (symlinks, odd modes): it is removed as that user
   * (as-owner.ts), so root never walks it; what is left (`in/`, written by Kiln alone, the empty `work/` and
   * the root) root removes.
   */
  async dispose(): Promise<void> {
    const owner = this.sandbox?.driver.workspaceOwner(this.sandbox.projectId);
    // `work` itself stays put (its parent is root's, 0700); only what is in it was the sandbox's.
    if (owner) await removeAsOwner(this.workDir, await readdir(this.workDir).catch(() => []), owner);
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * Git with hosts outside Kiln over https (ADR 0025): fetch a branch into a bundle, push a bundle's commit to
 * a branch. Each runs in the project's sandbox with egress (its filter the connect-time check of the same
 * policy) on a repository made in the sandbox's fresh /tmp, never on the project's own.
 */
export class GitTransfers {
  readonly #o: TransferOptions;

  constructor(options: TransferOptions) {
    this.#o = options;
  }

  get driver(): SandboxDriver {
    return this.#o.driver;
  }

  get maxBytes(): number {
    return this.#o.maxBytes;
  }

  /** The URL checked (https, no credentials in it) and its host resolved and allowed by the policy. */
  async check(text: string): Promise<URL> {
    const url = checkGitUrl(text);
    try {
      await this.#o.policy.pin(url);
    } catch (err) {
      if (err instanceof EgressRefusedError) throw new KilnError("egress_refused", err.message);
      if (err instanceof EgressUnresolvedError)
        throw new KilnError("git_remote_unreachable", `${url.hostname} does not resolve`);
      throw err;
    }
    return url;
  }

  async open(): Promise<TransferDir> {
    if (this.#o.driver.unsandboxed || this.#o.driver.name === "disabled")
      throw new KilnError("unavailable", "git transfers need this host's sandbox (ADR 0006)");
    await mkdir(this.#o.tmpRoot, { recursive: true, mode: 0o700 });
    const dir = new TransferDir(await mkdtemp(path.join(this.#o.tmpRoot, "t-")));
    try {
      await mkdir(dir.inDir, { mode: 0o755 });
      await mkdir(dir.workDir, { mode: 0o755 });
      // The sandbox's own CAs and the operator's: one file, since http.sslCAInfo replaces the default.
      if (this.#o.caFile) {
        const system = await readFile(SYSTEM_CAS, "utf8").catch(() => "");
        const extra = await readFile(this.#o.caFile, "utf8");
        await writeFile(path.join(dir.inDir, "ca.pem"), `${system}\n${extra}\n`, { mode: 0o644 });
      }
      await chmod(dir.inDir, 0o755);
      return dir;
    } catch (err) {
      await dir.dispose();
      throw err;
    }
  }

  /** Fetches `branch` (the remote's default when undefined) into `<in>/fetch.bundle`. */
  async fetch(
    dir: TransferDir,
    sandbox: TransferSandbox,
    url: URL,
    branch: string | undefined,
    auth?: GitAuth,
  ): Promise<Fetched> {
    const nonce = `\x1e${randomBytes(12).toString("hex")}:`;
    const r = await this.#run(dir, sandbox, FETCH_SCRIPT, auth, {
      KILN_URL: url.href,
      KILN_BRANCH: branch ?? "",
      KILN_MAX_KB: String(Math.floor(this.#o.maxBytes / 1024)),
      KILN_NONCE: nonce,
    });
    if (r.exitCode !== 0) throw this.#failure(r, branch, auth);
    await takeBundle({
      dir: dir.workDir,
      segments: [],
      name: FETCH_BUNDLE,
      dest: path.join(dir.inDir, FETCH_BUNDLE),
      maxBytes: this.#o.maxBytes,
    });
    const sections = splitOnNonce(r.stdout, nonce);
    const value = (name: string) =>
      sections
        .find((s) => s.startsWith(`${name} `))
        ?.slice(name.length + 1)
        .trim() ?? "";
    const rootFiles = new Map<string, Buffer>();
    const files = sections.find((s) => s.startsWith("files\n"));
    for (const name of files?.slice(6).split("\0") ?? []) if (name) rootFiles.set(name, Buffer.alloc(0));
    const pkg = sections.find((s) => s.startsWith("package\n"));
    if (pkg !== undefined && rootFiles.has("package.json"))
      rootFiles.set("package.json", Buffer.from(pkg.slice(8), "utf8"));
    const fetched = { branch: value("branch"), commit: value("commit"), rootFiles };
    if (!BRANCH_PATTERN.test(fetched.branch) || !/^[0-9a-f]{40,64}$/.test(fetched.commit))
      throw new Error(`git fetch in the sandbox printed no branch or commit: ${r.stdout.slice(0, 200)}`);
    return fetched;
  }

  /** Pushes refs/kiln/push of `<in>/push.bundle` to `branch`; never forced. */
  async push(
    dir: TransferDir,
    sandbox: TransferSandbox,
    url: URL,
    branch: string,
    auth?: GitAuth,
  ): Promise<"pushed" | "up-to-date"> {
    const r = await this.#run(dir, sandbox, PUSH_SCRIPT, auth, {
      KILN_URL: url.href,
      KILN_BRANCH: branch,
      KILN_NONCE: "-",
    });
    if (r.exitCode === REMOTE_EXIT.rejected) {
      throw new KilnError(
        "push_rejected",
        `the remote's ${branch} has commits this project does not have (or refused the push): pull first`,
        { details: { report: redact(r.stdout, auth).slice(-1000) } },
      );
    }
    if (r.exitCode !== 0) throw this.#failure(r, branch, auth);
    return /^=\t/m.test(r.stdout) ? "up-to-date" : "pushed";
  }

  #run(
    dir: TransferDir,
    sandbox: TransferSandbox,
    script: string,
    auth: GitAuth | undefined,
    env: Record<string, string>,
  ): Promise<ExecResult> {
    const config: Array<[string, string]> = [];
    if (this.#o.caFile) config.push(["http.sslCAInfo", `${IN_MOUNT}/ca.pem`]);
    if (auth) {
      const basic = Buffer.from(`${auth.username ?? "x-access-token"}:${auth.token}`).toString("base64");
      config.push(["http.extraHeader", `Authorization: Basic ${basic}`]);
    }
    const count: Record<string, string> = { GIT_CONFIG_COUNT: String(config.length) };
    config.forEach(([key, value], i) => {
      count[`GIT_CONFIG_KEY_${i}`] = key;
      count[`GIT_CONFIG_VALUE_${i}`] = value;
    });
    dir.sandbox ??= sandbox;
    return sandbox.driver.exec(
      {
        projectId: sandbox.projectId,
        workspaceDir: dir.workDir,
        network: "egress",
        readOnlyMounts: [{ hostPath: dir.inDir, sandboxPath: IN_MOUNT }],
      },
      {
        argv: ["sh", "-c", script, "kiln-remote"],
        env: {
          ...gitEnvironment("/tmp"),
          GIT_HTTP_LOW_SPEED_LIMIT: "1",
          GIT_HTTP_LOW_SPEED_TIME: "60",
          ...count,
          ...env,
        },
        // No file past the limit (a pack being received included): RLIMIT_FSIZE, then `du` on what came.
        limits: { wallClockMs: this.#o.timeoutMs, outputBytes: 2 * 1024 * 1024, fileBytes: this.#o.maxBytes },
      },
    );
  }

  #failure(r: ExecResult, branch: string | undefined, auth: GitAuth | undefined): KilnError {
    const said = redact(r.stderr, auth).trim().slice(-600);
    const why =
      said
        .split("\n")
        .filter((l) => /fatal|error/i.test(l))
        .pop() ??
      said.split("\n").pop() ??
      "";
    const details = { git: said };
    if (r.timedOut) return new KilnError("git_timeout", "the git host took too long", { details });
    if (r.exitCode === REMOTE_EXIT.tooLarge || /signal 25|File size limit|No space left/i.test(said))
      return tooLarge(this.#o.maxBytes);
    if (r.exitCode === REMOTE_EXIT.noRefs)
      return new KilnError("not_a_git_repository", "no branches there: not a git repository", { details });
    if (r.exitCode === REMOTE_EXIT.empty)
      return new KilnError("remote_branch_not_found", "the repository is empty", {
        details: { ...details, empty: true },
      });
    if (r.exitCode === REMOTE_EXIT.noBranch)
      return new KilnError("remote_branch_not_found", why || "the remote branch was not found", { details });
    if (/couldn't find remote ref|Remote branch .* not found/i.test(said))
      return new KilnError("remote_branch_not_found", `the remote has no branch ${branch ?? ""}`.trim(), {
        details,
      });
    if (/returned error: 30\d|redirect/i.test(said))
      return new KilnError(
        "egress_refused",
        "the git host answered with a redirect; Kiln does not follow redirects for git (use the final URL)",
        { details },
      );
    if (
      /Authentication failed|could not read Username|could not read Password|returned error: 40[13]/i.test(
        said,
      )
    )
      return new KilnError("git_auth_failed", "the git host refused the credentials (or wants some)", {
        details,
      });
    if (
      /not found|not valid: is this a git repository|does not appear to be a git repository|not a git repository|returned error: 4\d\d|dumb http/i.test(
        said,
      )
    )
      return new KilnError("not_a_git_repository", `not a git repository: ${why}`, { details });
    return new KilnError("git_remote_unreachable", `the git host could not be reached: ${why}`, { details });
  }
}

/** git's output without the token (git may echo a URL or a header back). */
function redact(text: string, auth: GitAuth | undefined): string {
  if (!auth) return text;
  const basic = Buffer.from(`${auth.username ?? "x-access-token"}:${auth.token}`).toString("base64");
  return text.replaceAll(auth.token, "***").replaceAll(basic, "***");
}
