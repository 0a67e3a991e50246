import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { NetworkPolicy, SandboxSpec } from "./driver.ts";
import { SLIRP_DNS } from "./network.ts";

/** The user code runs as inside the sandbox (mapped to an unprivileged host uid, see ADR 0006). */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;
export const NODE_DIR = "/opt/node/bin";
export const NPM_DIR = "/opt/npm";
export const SHIM_DIR = "/opt/kiln/bin";
export const SANDBOX_PATH = `${NODE_DIR}:${SHIM_DIR}:/usr/local/bin:/usr/bin:/bin`;
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** Environment every sandbox starts from (the host's is never inherited). */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: SANDBOX_PATH,
    HOME: "/tmp",
    USER: "kiln",
    LANG: "C.UTF-8",
    NPM_CONFIG_UPDATE_NOTIFIER: "false",
  };
  // Trust what the host trusts (including an operator's TLS-inspecting proxy CA), not only Node's bundle.
  if (existsSync(CA_BUNDLE)) {
    env.NODE_EXTRA_CA_CERTS = CA_BUNDLE;
    env.SSL_CERT_FILE = CA_BUNDLE;
  }
  return env;
}

/** Top-level names that Debian's merged-/usr layout turns into symlinks into /usr. */
const USR_LINKS = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/**
 * Finds npm for use inside the sandbox. The `node` devDependency ships only the binary, so npm is the
 * one the host used to install Kiln: `npm_execpath` when started by npm, else `npm` on the PATH.
 */
export function findNpmDir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.npm_execpath) candidates.push(process.env.npm_execpath);
  try {
    candidates.push(execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim());
  } catch {
    // no npm on PATH
  }
  candidates.push(
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm"),
  );
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    // …/npm/bin/npm-cli.js or …/npm/bin/npm → …/npm
    const dir = path.dirname(path.dirname(realpathSync(c)));
    if (existsSync(path.join(dir, "bin", "npm-cli.js"))) return dir;
  }
  return undefined;
}

/**
 * Writes the sandbox's own /etc pieces once per driver: a passwd/group that name the sandbox user, and
 * a resolv.conf per network policy (slirp4netns's DNS forwarder for egress, none otherwise).
 */
export function writeEtc(runDir: string): string {
  const etc = path.join(runDir, "etc");
  mkdirSync(etc, { recursive: true, mode: 0o755 });
  const files: Record<string, string> = {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nkiln:x:${SANDBOX_UID}:${SANDBOX_GID}:kiln:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nkiln:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`,
    hosts: "127.0.0.1\tlocalhost kiln\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    hostname: "kiln\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
    "resolv.conf.egress": `nameserver ${SLIRP_DNS}\n`,
    "resolv.conf.none": "",
  };
  for (const [name, text] of Object.entries(files))
    writeFileSync(path.join(etc, name), text, { mode: 0o644 });
  // npm's own bin/npm script looks for npm next to node; ours points at the mounted npm package.
  const bin = path.join(runDir, "bin");
  mkdirSync(bin, { recursive: true, mode: 0o755 });
  for (const tool of ["npm", "npx"]) {
    writeFileSync(path.join(bin, tool), `#!/bin/sh\nexec node ${NPM_DIR}/bin/${tool}-cli.js "$@"\n`, {
      mode: 0o755,
    });
  }
  return etc;
}

export interface RootOptions {
  etcDir: string;
  /** The complete /etc for this sandbox's network policy (EtcTrees), mounted as one piece. */
  etcTree: string;
  npmDir: string | undefined;
  network: NetworkPolicy;
  tmpBytes: number;
  /** Where the workspace (`ws`) and read-only mounts (`ro0`…) are staged for bwrap (see rootArgs). */
  stageDir: string;
}

/**
 * bwrap arguments for a root built from pieces. Not `--ro-bind / /`: the host root holds /work, /root,
 * Kiln's data dir and every other project.
 */
export function rootArgs(spec: SandboxSpec, o: RootOptions): string[] {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const name of USR_LINKS) {
    const p = `/${name}`;
    if (!existsSync(p)) continue;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(p), p);
    else if (st.isDirectory()) args.push("--ro-bind", p, p);
  }
  args.push("--proc", "/proc", "--dev", "/dev");
  args.push("--size", String(o.tmpBytes), "--tmpfs", "/tmp");
  // Kiln's passwd/group/hosts/resolv.conf and copies of the host files listed in etc-tree.ts.
  args.push("--ro-bind", o.etcTree, "/etc");
  args.push("--ro-bind", path.dirname(process.execPath), NODE_DIR);
  if (o.npmDir)
    args.push("--ro-bind", o.npmDir, NPM_DIR, "--ro-bind", path.join(o.etcDir, "..", "bin"), SHIM_DIR);
  // The project's directories are bind-mounted by Kiln (root) onto fixed staging paths in a private
  // mount namespace first: the unprivileged bwrap could not traverse a 0700 data dir to reach them by
  // path, and should not be able to.
  (spec.readOnlyMounts ?? []).forEach((m, i) => {
    args.push("--ro-bind", path.join(o.stageDir, `ro${i}`), m.sandboxPath);
  });
  args.push("--bind", path.join(o.stageDir, "ws"), "/workspace");
  // Everything but /workspace, /tmp and /dev is read-only, including the tmpfs bwrap builds / on.
  args.push("--remount-ro", "/");
  return args;
}
