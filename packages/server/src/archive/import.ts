import { symlink } from "node:fs/promises";
import { PassThrough, pipeline, type Readable } from "node:stream";
import type { ArchiveLimits } from "@kiln/protocol";
import yauzl from "yauzl";
import { KilnError } from "../errors/errors.ts";
import { createFile, type Dir, type ProjectRoot } from "../files/project-root.ts";
import type { Owner } from "../sandbox/workspace-owner.ts";
import { symlinkStaysInside } from "./export.ts";

/**
 * Reading an uploaded zip, all of it hostile: names, types, sizes and symlink targets are checked from the
 * central directory (and a symlink's few bytes) before anything is written, so a refused zip leaves nothing.
 * yauzl checks that every entry inflates to exactly its declared size, so the size and ratio limits checked
 * here hold while the files are written.
 */

export type ZipEntryKind = "dir" | "file" | "symlink";

export interface PlannedEntry {
  /** Relative, `/`-separated, checked: no empty, `.` or `..` segment. */
  path: string;
  kind: ZipEntryKind;
  /** 0o755 or 0o644 for a file. */
  mode: number;
  size: number;
  target?: string;
  entry?: yauzl.Entry;
}

export interface ZipPlan {
  zip: yauzl.ZipFile;
  /** Parents first (a directory before what it holds). */
  entries: PlannedEntry[];
  files: number;
  bytes: number;
  /** Small root files the template is recognised by (`package.json`). */
  rootFiles: Map<string, Buffer>;
  notes: string[];
}

/** Left out of an import wherever they appear: a repository, Kiln's own state, installed dependencies. */
const LEFT_OUT = new Set([".git", ".kiln", "node_modules"]);
const MAX_SYMLINK_BYTES = 1024;
const MAX_SNIFF_BYTES = 1024 * 1024;
const S_IFMT = 0o170000;

const invalid = (message: string) => new KilnError("archive_invalid", message);
const unsafe = (message: string) => new KilnError("archive_unsafe", message);

/** A segment that could mean something else to a file system: traversal, a drive, a separator, controls. */
function badSegment(segment: string): boolean {
  return (
    segment === "" ||
    segment === "." ||
    segment === ".." ||
    segment.includes("\\") ||
    segment.includes(":") ||
    segment.length > 255 ||
    [...segment].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
  );
}

export async function planZip(file: string, limits: ArchiveLimits): Promise<ZipPlan> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: true,
      validateEntrySizes: true,
      strictFileNames: false,
    });
  } catch (err) {
    throw invalid(`not a zip archive: ${(err as Error).message}`);
  }
  try {
    if (zip.entryCount > limits.entries) throw unsafe(`more than ${limits.entries} entries`);
    const plan: ZipPlan = { zip, entries: [], files: 0, bytes: 0, rootFiles: new Map(), notes: [] };
    const kinds = new Map<string, ZipEntryKind>();
    const seen = new Set<string>();
    for await (const entry of entriesOf(zip)) {
      const name = entry.fileName;
      const isDirName = name.endsWith("/");
      if (name.startsWith("/") || /^[A-Za-z]:/.test(name))
        throw unsafe(`${JSON.stringify(name)}: an absolute path`);
      const segments = (isDirName ? name.slice(0, -1) : name).split("/");
      if (segments.some(badSegment)) throw unsafe(`${JSON.stringify(name)}: not a plain relative path`);
      const entryPath = segments.join("/");
      if (segments.some((s) => LEFT_OUT.has(s))) {
        if (segments.length === 1 || !LEFT_OUT.has(segments[0]!))
          plan.notes.push(
            `${entryPath}: left out (${segments.find((s) => LEFT_OUT.has(s))} is never imported)`,
          );
        continue;
      }
      if (entry.isEncrypted()) throw invalid(`${entryPath}: encrypted entries are not supported`);
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
        throw invalid(`${entryPath}: compression method ${entry.compressionMethod} is not supported`);
      const kind = kindOf(entry, isDirName);
      if (!kind) throw unsafe(`${entryPath}: a device, FIFO or socket`);
      // Case and Unicode form fold together: two names one file system would take for one file.
      const key = entryPath.normalize("NFC").toLowerCase();
      if (seen.has(key)) throw unsafe(`${entryPath}: a duplicate name (or one differing only in case)`);
      seen.add(key);
      const keySegments = key.split("/");
      for (let i = 1; i < keySegments.length; i++) {
        const parent = keySegments.slice(0, i).join("/");
        const parentKind = kinds.get(parent);
        if (parentKind && parentKind !== "dir") throw unsafe(`${entryPath}: inside ${parentKind} ${parent}`);
        kinds.set(parent, "dir");
      }
      if (kinds.has(key) && (kind !== "dir" || kinds.get(key) !== "dir"))
        throw unsafe(`${entryPath}: both a directory and a ${kind}`);
      kinds.set(key, kind);

      const size = entry.uncompressedSize;
      if (kind === "dir") {
        plan.entries.push({ path: entryPath, kind, mode: 0o755, size: 0 });
        continue;
      }
      if (size > limits.fileBytes)
        throw unsafe(`${entryPath}: more than ${limits.fileBytes} bytes uncompressed`);
      plan.bytes += size;
      if (plan.bytes > limits.bytes) throw unsafe(`more than ${limits.bytes} bytes uncompressed`);
      if (size > limits.ratioFloorBytes && size / Math.max(entry.compressedSize, 1) > limits.ratio)
        throw unsafe(`${entryPath}: compressed more than ${limits.ratio} to 1 (a zip bomb?)`);
      if (kind === "symlink") {
        if (size > MAX_SYMLINK_BYTES) throw unsafe(`${entryPath}: a symlink target too long`);
        const target = (await readAll(zip, entry, MAX_SYMLINK_BYTES)).toString("utf8");
        if (!symlinkStaysInside(entryPath, target))
          throw unsafe(`${entryPath}: a symlink leading outside the project (${JSON.stringify(target)})`);
        plan.entries.push({ path: entryPath, kind, mode: 0o777, size, target });
        continue;
      }
      plan.files++;
      const mode = (entry.externalFileAttributes >>> 16) & 0o111 ? 0o755 : 0o644;
      plan.entries.push({ path: entryPath, kind, mode, size, entry });
      if (segments.length === 1 && entryPath === "package.json" && size <= MAX_SNIFF_BYTES)
        plan.rootFiles.set(entryPath, await readAll(zip, entry, MAX_SNIFF_BYTES));
      if (segments.length === 1)
        plan.rootFiles.set(entryPath, plan.rootFiles.get(entryPath) ?? Buffer.alloc(0));
    }
    // Parents before children (a zip may list them in any order); implied directories are made on the way.
    plan.entries.sort((a, b) => depth(a.path) - depth(b.path));
    return plan;
  } catch (err) {
    zip.close();
    if (err instanceof KilnError) throw err;
    throw fromYauzl(err as Error);
  }
}

/** yauzl's own refusals of a name (absolute, `..`, a backslash) are unsafe; anything else is a broken zip. */
function fromYauzl(err: Error): KilnError {
  if (/absolute path|invalid relative path|invalid characters/.test(err.message)) return unsafe(err.message);
  return invalid(`a broken zip archive: ${err.message}`);
}

function kindOf(entry: yauzl.Entry, isDirName: boolean): ZipEntryKind | undefined {
  const unix = entry.versionMadeBy >> 8 === 3;
  const type = unix ? (entry.externalFileAttributes >>> 16) & S_IFMT : 0;
  if (type === 0) return isDirName ? "dir" : "file";
  if (type === 0o040000) return "dir";
  if (isDirName) return undefined;
  if (type === 0o100000) return "file";
  if (type === 0o120000) return "symlink";
  return undefined;
}

const depth = (p: string) => p.split("/").length;

/** An entry's bytes, for the few that are read whole (a symlink's target, package.json). */
async function readAll(zip: yauzl.ZipFile, entry: yauzl.Entry, max: number): Promise<Buffer> {
  const stream = await openEntry(zip, entry);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      stream.destroy();
      throw unsafe(`${entry.fileName}: larger than it said`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * An entry's bytes. Piped at once into a stream of our own, so an error yauzl raises before anyone reads
 * (it checks sizes while inflating, even unread) is held for the reader instead of going unhandled.
 */
export async function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw fromYauzl(err as Error);
  }
  const out = new PassThrough();
  pipeline(stream, out, () => {});
  return out;
}

async function* entriesOf(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  while (true) {
    const next = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      const done = () => {
        zip.off("entry", onEntry);
        zip.off("end", onEnd);
        zip.off("error", onError);
      };
      const onEntry = (e: yauzl.Entry) => {
        done();
        resolve(e);
      };
      const onEnd = () => {
        done();
        resolve(undefined);
      };
      const onError = (err: Error) => {
        done();
        reject(err);
      };
      zip.on("entry", onEntry);
      zip.on("end", onEnd);
      zip.on("error", onError);
      zip.readEntry();
    });
    if (!next) return;
    yield next;
  }
}

/** The template a project's files look like: Vite in package.json → react-vite, other package.json → node-api. */
export function detectTemplate(rootFiles: Map<string, Buffer>): { template: string; note?: string } {
  const pkg = rootFiles.get("package.json");
  if (pkg) {
    let parsed: { dependencies?: object; devDependencies?: object } | undefined;
    try {
      parsed = JSON.parse(pkg.toString("utf8"));
    } catch {
      return { template: "node-api", note: "package.json is not valid JSON; treated as a Node project" };
    }
    const deps = { ...parsed?.dependencies, ...parsed?.devDependencies };
    if ("vite" in deps) {
      const react = "react" in deps;
      return react
        ? { template: "react-vite" }
        : {
            template: "react-vite",
            note: "a Vite project without React; the React + Vite template's settings apply",
          };
    }
    return { template: "node-api" };
  }
  if (rootFiles.has("index.html")) return { template: "static" };
  return {
    template: "static",
    note: "no package.json or index.html at the root: the kind of project was not recognised, treated as a static site",
  };
}

/**
 * Writes a checked plan into a new project's tree: directories made through verified descriptors and given
 * to `owner` as they are made, files created O_EXCL and fchown-ed before their bytes (files/project-root.ts),
 * symlinks (targets checked to stay inside) made in a verified directory (left root's), never followed.
 */
export async function writeZip(root: ProjectRoot, plan: ZipPlan, owner: Owner | undefined): Promise<void> {
  let dir: Dir | undefined;
  try {
    for (const item of plan.entries) {
      const segments = item.path.split("/");
      const name = segments.pop()!;
      if (item.kind === "dir") {
        await (await root.openDir([...segments, name], { create: true })).close();
        continue;
      }
      if (!dir || dir.segments.join("/") !== segments.join("/")) {
        await dir?.close();
        dir = undefined;
        dir = await root.openDir(segments, { create: true });
      }
      if (item.kind === "symlink") {
        const at = dir.child(name);
        // Made in a verified directory the project's user owns; the link itself stays root's (a link's owner
        // gives no access, and its directory's owner may remove or replace it). Never chowned by path.
        await symlink(item.target!, at);
        continue;
      }
      const source = await openEntry(plan.zip, item.entry!);
      try {
        await createFile(dir, name, source, {
          mode: item.mode,
          owner,
          maxBytes: item.size,
          where: item.path,
        });
      } catch (err) {
        source.destroy();
        if (err instanceof KilnError) throw err;
        // yauzl's check that the entry inflates to its declared size, or a corrupt stream.
        throw fromYauzl(err as Error);
      }
    }
  } finally {
    await dir?.close();
  }
}
