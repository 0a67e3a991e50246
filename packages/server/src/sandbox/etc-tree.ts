import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  realpathSync,
  rmSync,
  statSync,
} from "node:fs";
import path from "node:path";
import type { NetworkPolicy } from "./driver.ts";

/** Host files of /etc a program may legitimately need; nothing with secrets (no shadow, no ssl/private). */
export const ETC_FROM_HOST = [
  "ssl/certs",
  "ssl/openssl.cnf",
  "ca-certificates",
  "ca-certificates.conf",
  "alternatives",
  "ld.so.cache",
  "localtime",
  "mime.types",
  "protocols",
  "services",
];
/** Kiln's own files (writeEtc), the same in every sandbox; resolv.conf comes per network policy. */
const GENERATED = ["passwd", "group", "hosts", "hostname", "nsswitch.conf"];
/** How often a launch may look whether the host's files changed (a few stat calls). */
const RECHECK_MS = 30_000;

/**
 * The sandbox's whole /etc, one directory per network policy, bind-mounted with a single mount: as
 * sixteen separate file mounts they cost bwrap ~6 ms per sandbox (it re-reads the mount table for each).
 * The host's files are copied (symlinks kept as they are: they point into the read-only /usr), and copied
 * again, into a new generation, when one of them changes on the host: an update of the CA bundle is seen
 * within RECHECK_MS. A generation in use by a starting sandbox is never changed in place.
 */
export class EtcTrees {
  readonly #etcDir: string;
  readonly #base: string;
  #generation = 0;
  #stamp = "";
  #checkedAt = 0;
  #current: Record<NetworkPolicy, string> | undefined;

  /** `etcDir`: writeEtc's directory of generated files; the trees go next to it. */
  constructor(etcDir: string) {
    this.#etcDir = etcDir;
    this.#base = `${etcDir}-trees`;
    mkdirSync(this.#base, { recursive: true, mode: 0o755 });
  }

  /** The /etc directory for a sandbox with this network policy. */
  dir(policy: NetworkPolicy): string {
    const now = Date.now();
    if (!this.#current || now - this.#checkedAt >= RECHECK_MS) {
      this.#checkedAt = now;
      const stamp = hostStamp();
      if (!this.#current || stamp !== this.#stamp) this.#build(stamp);
    }
    return (this.#current as Record<NetworkPolicy, string>)[policy];
  }

  #build(stamp: string): void {
    const previous = this.#current;
    const gen = ++this.#generation;
    const next = {} as Record<NetworkPolicy, string>;
    for (const policy of ["none", "egress"] as const) {
      const dir = path.join(this.#base, `${gen}-${policy}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { mode: 0o755 });
      for (const name of GENERATED) copyFileSync(path.join(this.#etcDir, name), path.join(dir, name));
      copyFileSync(path.join(this.#etcDir, `resolv.conf.${policy}`), path.join(dir, "resolv.conf"));
      for (const name of ETC_FROM_HOST) {
        const from = `/etc/${name}`;
        if (!existsSync(from)) continue;
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true, mode: 0o755 });
        // A link into /usr (localtime) resolves inside the sandbox as on the host; any other is followed.
        const real = realpathSync(from);
        const source = lstatSync(from).isSymbolicLink() && !real.startsWith("/usr/") ? real : from;
        cpSync(source, path.join(dir, name), { recursive: true, verbatimSymlinks: true });
      }
      next[policy] = dir;
    }
    this.#current = next;
    this.#stamp = stamp;
    // Sandboxes starting right now may still be mounting the previous generation: removed a bit later.
    if (previous) {
      setTimeout(() => {
        for (const dir of Object.values(previous)) rmSync(dir, { recursive: true, force: true });
      }, 60_000).unref();
    }
  }
}

/** What changes when the host's copied files do: their sizes and times (the directories' for entries). */
function hostStamp(): string {
  const parts: string[] = [];
  for (const name of [...ETC_FROM_HOST, "ssl/certs/ca-certificates.crt"]) {
    try {
      const st = statSync(`/etc/${name}`);
      parts.push(`${name}:${st.size}:${st.mtimeMs}:${st.ino}`);
    } catch {
      parts.push(`${name}:-`);
    }
  }
  return parts.join("|");
}
