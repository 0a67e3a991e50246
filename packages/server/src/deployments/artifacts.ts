import { createHash, randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { link, mkdir, open, rm, utimes } from "node:fs/promises";
import path from "node:path";
import { ARTIFACT_LIMITS } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import { type Dir, openFileForRead, type ProjectRoot } from "../files/project-root.ts";
import { walk } from "../files/walk.ts";
import type { ArtifactFile, ArtifactManifest, ServerCommand } from "./manifest.ts";

/**
 * Deployments' files, content-addressed under Kiln's data dir (`<dataDir>/artifacts/blobs/ab/<sha256>`):
 * written once, never changed, shared by every deployment that has the same bytes.
 *
 * A build's output lies in the project's workspace, which its sandboxed code can change at any moment
 * (trust rule). It is read the way the file API reads (files/project-root.ts): every directory through a
 * verified no-follow descriptor, every file opened O_NOFOLLOW|O_NONBLOCK and checked to be a regular file on
 * its descriptor. Symlinks are left out (even ones inside the project: what the sandbox wrote is not
 * followed by root), as are dot-files (`.env`, `.git`), `node_modules` (but for a server app, which runs
 * with its installed dependencies) and the template's own exclusions.
 * Nothing is written into the workspace.
 */

const { O_WRONLY, O_CREAT, O_EXCL } = constants;
const DIGEST = /^[0-9a-f]{64}$/;
/** A name the static server could not map a URL to, or that would mean something else in a path. */
const unservable = (name: string) =>
  name.includes("\\") || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

export interface CaptureOptions {
  spa: boolean;
  server?: ServerCommand | undefined;
  /** Keep `node_modules` (a server app needs its dependencies; a static site never ships them). */
  dependencies?: boolean;
  /**
   * Where a server app's production dependencies were installed (a verified directory of the project):
   * published as the artifact's top-level `node_modules`, instead of the output's own.
   */
  dependenciesFrom?: Dir | undefined;
  /** Names left out wherever they appear. */
  exclude: readonly string[];
  limits?: Partial<Record<keyof typeof ARTIFACT_LIMITS, number>>;
}

export interface Captured {
  manifest: ArtifactManifest;
  files: number;
  bytes: number;
  /** What was left out and why, for the build log. */
  skipped: string[];
}

export class ArtifactStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  get root(): string {
    return this.#root;
  }

  blobPath(digest: string): string {
    if (!DIGEST.test(digest)) throw new Error(`not a sha256 digest: ${digest}`);
    return path.join(this.#root, "blobs", digest.slice(0, 2), digest);
  }

  /** Copies the regular files below `output` (a verified directory of the project) into the store. */
  async capture(root: ProjectRoot, output: Dir, options: CaptureOptions): Promise<Captured> {
    const limits = { ...ARTIFACT_LIMITS, ...options.limits };
    const excluded = new Set(options.exclude);
    const files: Record<string, ArtifactFile> = {};
    const skipped: string[] = [];
    let count = 0;
    let bytes = 0;
    const keepModules = options.dependencies === true && options.dependenciesFrom === undefined;
    const leftOut = (name: string) =>
      name.startsWith(".") || (name === "node_modules" && !keepModules) || excluded.has(name);
    await mkdir(path.join(this.#root, "tmp"), { recursive: true, mode: 0o700 });
    const visitor =
      (base: number, prefix: string, skip: (name: string) => boolean) =>
      async (entry: { path: string; name: string; stat: Stats; parent: Dir }) => {
        const rel = prefix + entry.path.split("/").slice(base).join("/");
        if (skip(entry.name)) return true;
        if (entry.stat.isDirectory()) return true;
        if (entry.stat.isSymbolicLink()) {
          skipped.push(`${rel}: a symlink (not published)`);
          return true;
        }
        if (!entry.stat.isFile()) {
          skipped.push(`${rel}: not a regular file`);
          return true;
        }
        if (unservable(rel)) {
          skipped.push(`${JSON.stringify(rel)}: a name with control characters or a backslash`);
          return true;
        }
        if (++count > limits.files) throw tooLarge(`more than ${limits.files} files`);
        const file = await this.#copy(entry.parent, entry.name, rel, limits.fileBytes);
        bytes += file.size;
        if (bytes > limits.bytes) throw tooLarge(`more than ${Math.round(limits.bytes / 2 ** 20)} MiB`);
        files[rel] = file;
        return true;
      };
    await walk(root, output, { skip: leftOut, visit: visitor(output.segments.length, "", leftOut) });
    const deps = options.dependenciesFrom;
    if (deps) {
      // Everything installed is published (nested node_modules too), but dot-files (`.bin` links, caches).
      const hidden = (name: string) => name.startsWith(".");
      await walk(root, deps, { skip: hidden, visit: visitor(deps.segments.length, "node_modules/", hidden) });
    }
    const manifest: ArtifactManifest = { files, spa: options.spa };
    if (options.server) manifest.server = options.server;
    return { manifest, files: count, bytes, skipped };
  }

  /** One file, hashed as it is copied to a temp file, then linked in under its digest (once). */
  async #copy(dir: Dir, name: string, rel: string, maxBytes: number): Promise<ArtifactFile> {
    const source = await openFileForRead(dir, name, rel);
    const temp = path.join(this.#root, "tmp", randomBytes(12).toString("hex"));
    try {
      if ((await source.stat()).size > maxBytes) throw tooLarge(`${rel} is larger than ${maxBytes} bytes`);
      const target = await open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644);
      const hash = createHash("sha256");
      let size = 0;
      try {
        for await (const chunk of source.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
          size += chunk.length;
          // Re-checked while reading: the sandbox may grow the file after the stat.
          if (size > maxBytes) throw tooLarge(`${rel} is larger than ${maxBytes} bytes`);
          hash.update(chunk);
          await target.write(chunk);
        }
      } finally {
        await target.close();
      }
      const digest = hash.digest("hex");
      const blob = this.blobPath(digest);
      await mkdir(path.dirname(blob), { recursive: true, mode: 0o755 });
      // Another deployment (or a concurrent capture) may have stored the same bytes: keep that one.
      await link(temp, blob).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
        // Reused: marked as in use, so the collector's grace period starts again (collect.ts).
        const now = new Date();
        await utimes(blob, now, now);
      });
      return { digest, size };
    } finally {
      await source.close();
      await rm(temp, { force: true });
    }
  }
}

function tooLarge(what: string): KilnError {
  return new KilnError("payload_too_large", `the build output is too large: ${what}`);
}
