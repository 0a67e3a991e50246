import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import {
  ARCHIVE_LIMITS,
  type ArchiveLimits,
  type ImportedProject,
  type ImportReport,
  type TemplateManifest,
} from "@kiln/protocol";
import type { ZipArchive } from "archiver";
import { KilnError } from "../errors/errors.ts";
import { type Dir, openFileForRead, ProjectRoot } from "../files/project-root.ts";
import type { ProjectHistory } from "../history/service.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ImportSource, ProjectService } from "../projects/service.ts";
import type { ProjectStorage } from "../projects/storage.ts";
import type { Owner } from "../sandbox/workspace-owner.ts";
import { type ExtraFile, planExport, streamExport } from "./export.ts";
import { detectTemplate, planZip, writeZip } from "./import.ts";

export interface ArchiveDeps {
  projects: ProjectService;
  storage: ProjectStorage;
  history: ProjectHistory;
  /** A template's manifest, undefined for one this server no longer has. */
  manifestOf(template: string): TemplateManifest | undefined;
  ownerOf(projectId: string): Owner | undefined;
  /** Kiln's own directory (never a project's) where uploads are kept while they are checked. */
  spoolDir: string;
  limits?: Partial<ArchiveLimits>;
}

/** Never in an export: installed dependencies, the repository (the bundle carries history), Kiln's own. */
const EXCLUDED_ANYWHERE = ["node_modules", ".git", ".kiln"];

/** A project's files as a zip (export), and a new project from one (import). */
export class ProjectArchives {
  readonly #d: ArchiveDeps;
  readonly limits: ArchiveLimits;

  constructor(deps: ArchiveDeps) {
    this.#d = deps;
    this.limits = { ...ARCHIVE_LIMITS, ...deps.limits };
  }

  /**
   * Plans the export (limits checked, 413 before any byte) and returns the zip stream. With `history`, git
   * bundles the repository inside the sandbox into `.kiln/`; the bundle is read back without following
   * anything, added as `<slug>.bundle`, and removed when the download ends.
   */
  async export(
    access: OrgAccess,
    ref: string,
    options: { history: boolean },
  ): Promise<{ filename: string; zip: ZipArchive; skipped: string[] }> {
    requirePermission(access.role, "projects.write");
    const project = await this.#d.projects.get(access, ref);
    const root = await ProjectRoot.open(
      this.#d.storage.projectDir(access.org.id, project.id),
      this.#d.ownerOf(project.id),
    );
    const top = await root.openDir([]);
    const plan = await planExport(root, top, {
      excludeAnywhere: EXCLUDED_ANYWHERE,
      excludeAtRoot: rootExclusions(this.#d.manifestOf(project.template)),
      limits: this.limits,
    }).finally(() => top.close());
    const extras: ExtraFile[] = [];
    let cleanup = async () => {};
    if (options.history) {
      const name = `export-${randomBytes(8).toString("hex")}.bundle`;
      await this.#d.history.bundle({ orgId: access.org.id, projectId: project.id }, name);
      const dir = await root.openDir([".kiln"]);
      cleanup = async () => {
        // Through the verified descriptor: whatever `.kiln` became meanwhile, nothing outside is touched.
        await unlink(dir.child(name)).catch(() => {});
        await dir.close();
      };
      try {
        const bundle = await bundleFile(dir, name, this.limits.bytes - plan.bytes);
        extras.push({ name: `${project.slug}.bundle`, stream: bundle });
      } catch (err) {
        await cleanup();
        throw err;
      }
    }
    const zip = streamExport(root, plan, extras, () => void cleanup());
    return { filename: `${project.slug}.zip`, zip, skipped: plan.skipped };
  }

  /**
   * A new project from an uploaded zip: the upload is kept in Kiln's own spool (never in a project), every
   * entry checked (planZip) before a project exists, then written by writeZip into the new project's tree
   * inside `createWith`, whose failure removes the row and the files. A `<name>.bundle` alone at the root
   * becomes the project's history when git (in the sandbox) takes it; the files are checkpointed on top.
   */
  async import(
    access: OrgAccess,
    name: string,
    body: unknown,
    contentLength: string | undefined,
  ): Promise<ImportedProject> {
    requirePermission(access.role, "projects.write");
    if (!(body instanceof Readable))
      throw new KilnError("unsupported_media_type", "send the zip itself as the body, as application/zip");
    if (Number(contentLength) > this.limits.uploadBytes) throw uploadTooLarge(this.limits.uploadBytes);
    const file = await this.#spool(body);
    try {
      return await this.#importFile(access, name, file, { kind: "zip" });
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * A new project from a zip Kiln made itself (a marketplace version, ADR 0040), checked like an upload all
   * the same: it is kept in Kiln's spool and goes through planZip and writeZip. `template` is the one the
   * files were published from, so its dependency cache is reused.
   */
  async importZip(
    access: OrgAccess,
    name: string,
    zip: Buffer,
    template: string,
    source: ImportSource,
  ): Promise<ImportedProject> {
    requirePermission(access.role, "projects.write");
    if (zip.length > this.limits.uploadBytes) throw uploadTooLarge(this.limits.uploadBytes);
    const file = await this.#spool(Readable.from([zip]));
    try {
      return await this.#importFile(access, name, file, source, template);
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * A project's files as a zip in memory, for the marketplace (ADR 0040): what an export leaves out, and also
   * secrets (`.env*`, `.npmrc`, keys) wherever they are; its README.md (cut at `readmeBytes`), if any.
   */
  async snapshot(
    access: OrgAccess,
    ref: string,
    options: { maxZipBytes: number; readmeBytes: number },
  ): Promise<{ zip: Buffer; files: number; bytes: number; readme: string | undefined; template: string }> {
    requirePermission(access.role, "projects.write");
    const project = await this.#d.projects.get(access, ref);
    const root = await ProjectRoot.open(
      this.#d.storage.projectDir(access.org.id, project.id),
      this.#d.ownerOf(project.id),
    );
    const top = await root.openDir([]);
    let readme: string | undefined;
    const plan = await planExport(root, top, {
      excludeAnywhere: EXCLUDED_ANYWHERE,
      excludeAtRoot: rootExclusions(this.#d.manifestOf(project.template)),
      excludeMatching: isSecretFile,
      limits: this.limits,
    });
    try {
      if (plan.entries.some((e) => e.kind === "file" && e.path === "README.md")) {
        const handle = await openFileForRead(top, "README.md", "README.md");
        try {
          const buffer = Buffer.alloc(options.readmeBytes);
          const { bytesRead } = await handle.read(buffer, 0, options.readmeBytes, 0);
          readme = buffer.subarray(0, bytesRead).toString("utf8");
        } finally {
          await handle.close();
        }
      }
    } finally {
      await top.close();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const zip = streamExport(root, plan);
    for await (const chunk of zip as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.maxZipBytes) {
        zip.destroy();
        throw new KilnError(
          "payload_too_large",
          `the project's files are more than ${Math.round(options.maxZipBytes / 2 ** 20)} MiB zipped`,
        );
      }
      chunks.push(chunk);
    }
    return {
      zip: Buffer.concat(chunks),
      files: plan.files,
      bytes: plan.bytes,
      readme,
      template: project.template,
    };
  }

  async #importFile(
    access: OrgAccess,
    name: string,
    file: string,
    source: ImportSource,
    template?: string,
  ): Promise<ImportedProject> {
    const plan = await planZip(file, this.limits);
    try {
      const detected = template ? { template } : detectTemplate(plan.rootFiles);
      const bundles = plan.entries.filter(
        (e) => e.kind === "file" && !e.path.includes("/") && e.path.endsWith(".bundle"),
      );
      let history = "none" as ImportReport["history"];
      const project = await this.#d.projects.createWith(
        access,
        { name, template: detected.template },
        async (dir, projectId, owner) => {
          const root = await ProjectRoot.open(dir, owner);
          const top = await root.openDir([]);
          try {
            // The directory is Kiln's new, empty one: given to the project through its descriptor.
            if (owner && top.handle) await top.handle.chown(owner.uid, owner.gid);
          } finally {
            await top.close();
          }
          await writeZip(root, plan, owner);
          const bundle = bundles.length === 1 && !template ? `./${bundles[0]!.path}` : undefined;
          const state = await this.#d.history.initImported({ orgId: access.org.id, projectId }, bundle);
          history = state === "kept" ? "kept-as-file" : state;
        },
        source,
      );
      const notes = [...plan.notes];
      if ("note" in detected && detected.note) notes.push(detected.note);
      if (bundles.length > 1)
        notes.push("more than one .bundle at the root: kept as files, history not restored");
      if (history === "kept-as-file")
        notes.push(`${bundles[0]!.path} is not a git bundle git could read: kept as a file`);
      return {
        project,
        report: { template: detected.template, files: plan.files, bytes: plan.bytes, history, notes },
      };
    } finally {
      plan.zip.close();
    }
  }

  /** The upload, to a file of Kiln's own (yauzl reads a zip from its end), cut off past the limit. */
  async #spool(body: Readable): Promise<string> {
    await mkdir(this.#d.spoolDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.#d.spoolDir, `${randomBytes(12).toString("hex")}.zip`);
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
    const handle = await open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    let size = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.limits.uploadBytes) throw uploadTooLarge(this.limits.uploadBytes);
        await handle.write(chunk);
      }
      await handle.close();
      return file;
    } catch (err) {
      await handle.close().catch(() => {});
      await rm(file, { force: true });
      throw err;
    }
  }
}

function uploadTooLarge(limit: number): KilnError {
  return new KilnError("payload_too_large", `the zip is larger than ${Math.round(limit / 2 ** 20)} MiB`);
}

async function bundleFile(dir: Dir, name: string, room: number) {
  const handle = await openFileForRead(dir, name, `.kiln/${name}`);
  const size = (await handle.stat()).size;
  if (size > room) {
    await handle.close();
    throw new KilnError("payload_too_large", "the project's history is too large to export");
  }
  // Read up to the size checked: the sandbox could still append to it.
  return handle.createReadStream({ start: 0, end: Math.max(size - 1, 0) });
}

/** Files that hold secrets by convention: never in a published template (ADR 0040). */
export function isSecretFile(name: string): boolean {
  return name.startsWith(".env") || name === ".npmrc" || name.endsWith(".pem") || name.endsWith(".key");
}

/** The build output and the template's ignored top-level directories (`dist/`), never exported. */
function rootExclusions(manifest: TemplateManifest | undefined): string[] {
  const names = new Set(["dist"]);
  const output = manifest?.build?.output;
  if (output && output !== "." && !output.includes("/")) names.add(output);
  for (const line of manifest?.gitignore ?? []) {
    const name = line.replace(/^\/+/, "").replace(/\/+$/, "");
    if (name && !/[*?[\]!/\\]/.test(name)) names.add(name);
  }
  return [...names];
}
