import { randomUUID } from "node:crypto";
import { type CreateProjectBody, type Project, slugify, type UpdateProjectBody } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { LimitsConfig } from "../config.ts";
import type { Database, Executor } from "../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../db/errors.ts";
import { projects } from "../db/schema-tenant.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/errors.ts";
import { assertProjectRoom } from "../limits/counts.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import { looksLikeId, withSuffix } from "../orgs/slug.ts";
import type { LoadedTemplate } from "../templates/registry.ts";
import type { TemplateService } from "../templates/service.ts";
import type { SpareWorkspaces } from "../templates/spares.ts";
import type { ProjectStorage } from "./storage.ts";

type ProjectRow = typeof projects.$inferSelect;

function toProject(orgId: string, row: ProjectRow): Project {
  return {
    id: row.id,
    orgId,
    slug: row.slug,
    name: row.name,
    description: row.description,
    template: row.template,
    previewPublic: row.previewPublic,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Projects live in the org's own schema; every query here runs through `database.tenant`. */
export class ProjectService {
  readonly #database: Database;
  readonly #storage: ProjectStorage;
  readonly #templates: TemplateService;
  readonly #deleteListeners: Array<(orgId: string, projectId: string) => Promise<void>> = [];
  readonly #createListeners: Array<(access: OrgAccess, project: Project, input: CreateProjectBody) => void> =
    [];

  readonly #ownerOf: (projectId: string) => { uid: number; gid: number } | undefined;
  readonly #spares: SpareWorkspaces | undefined;
  readonly #limits: LimitsConfig | undefined;

  /**
   * `ownerOf` names the sandbox user a new project's files are given to (the runtime driver knows it);
   * `spares`, when given, hands out workspaces made ahead of time.
   */
  constructor(
    database: Database,
    storage: ProjectStorage,
    templates: TemplateService,
    options: {
      ownerOf?: (projectId: string) => { uid: number; gid: number } | undefined;
      spares?: SpareWorkspaces;
      /** Projects per org (`projectsPerOrg`); none when not given. */
      limits?: LimitsConfig;
    } = {},
  ) {
    this.#database = database;
    this.#storage = storage;
    this.#templates = templates;
    this.#ownerOf = options.ownerOf ?? (() => undefined);
    this.#spares = options.spares;
    this.#limits = options.limits;
  }

  /** Runs before a deleted project's files are removed (the runtime stops its processes first). */
  onDelete(listener: (orgId: string, projectId: string) => Promise<void>): void {
    this.#deleteListeners.push(listener);
  }

  /**
   * Runs once a new project's files are written, committed and owned, before its row is committed
   * (the runtime starts the dev server when asked). If creation fails after that, `onDelete` runs.
   */
  onCreate(listener: (access: OrgAccess, project: Project, input: CreateProjectBody) => void): void {
    this.#createListeners.push(listener);
  }

  async list(access: OrgAccess): Promise<Project[]> {
    requirePermission(access.role, "projects.read");
    const rows = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(projects).orderBy(projects.name),
    );
    return rows.map((row) => toProject(access.org.id, row));
  }

  async get(access: OrgAccess, ref: string): Promise<Project> {
    requirePermission(access.role, "projects.read");
    const row = await this.#database.tenant(access.org.schemaName, (tx) => findProject(tx, ref));
    return toProject(access.org.id, row);
  }

  async create(access: OrgAccess, input: CreateProjectBody): Promise<Project> {
    requirePermission(access.role, "projects.write");
    assertNotIdShaped(input.slug);
    const template = this.#templates.get(input.template);
    // Refused before a spare workspace is claimed (and spent) for it; checked again, locked, when inserting.
    await this.#assertRoom(access);
    // The first project from a lockfile waits for npm here, outside the transaction.
    await this.#templates.prepare(template);
    // A workspace made ahead of time comes with its id (its files already belong to that id's sandbox user).
    const spare = this.#spares?.claim(template.manifest.name);
    let adopted = false;
    const id = spare?.id ?? randomUUID();
    try {
      const created = { action: "project.created" as const, data: {} };
      return await this.#createWithId(access, input, template, id, created, async (dir, onFiles) => {
        // A spare comes committed and owned (its warm-up ran the template's own code in its sandbox; no
        // host git ever runs on it again).
        if (spare && (await this.#spares!.adopt(spare, dir))) {
          adopted = true;
          onFiles();
          return;
        }
        await this.#storage.createProject(access.org.id, id);
        await this.#templates.materialize(template, dir, this.#ownerOf(id), onFiles);
      });
    } finally {
      if (spare && !adopted) void this.#spares!.discard(spare);
    }
  }

  /**
   * Creates a project whose files `makeFiles` writes into its (new, empty, Kiln-owned) directory, given the
   * sandbox owner they must belong to — an import. As with a template, a failure leaves no row and no files.
   * `source` says where it came from, for the audit record (`project.imported`): never a credential.
   */
  async createWith(
    access: OrgAccess,
    input: { name: string; template: string },
    makeFiles: (
      dir: string,
      projectId: string,
      owner: { uid: number; gid: number } | undefined,
    ) => Promise<void>,
    source: ImportSource,
  ): Promise<Project> {
    requirePermission(access.role, "projects.write");
    const template = this.#templates.get(input.template);
    await this.#assertRoom(access);
    const id = randomUUID();
    const body: CreateProjectBody = { name: input.name, template: template.manifest.name };
    const imported = { action: "project.imported" as const, data: importData(source) };
    return this.#createWithId(access, body, template, id, imported, async (dir) => {
      await this.#storage.createProject(access.org.id, id);
      await makeFiles(dir, id, this.#ownerOf(id));
    });
  }

  async #createWithId(
    access: OrgAccess,
    input: CreateProjectBody,
    template: LoadedTemplate,
    id: string,
    audit: { action: "project.created" | "project.imported"; data: Record<string, unknown> },
    makeFiles: (dir: string, onFiles: () => void) => Promise<void>,
  ): Promise<Project> {
    const row = await this.#database.tenant(access.org.schemaName, async (tx) => {
      if (this.#limits) await assertProjectRoom(tx, access.org.id, this.#limits);
      let slug = input.slug ?? slugify(input.name);
      for (let attempt = 0; ; attempt++) {
        const [inserted] = await tx
          .insert(projects)
          .values({
            id,
            slug,
            name: input.name,
            description: input.description ?? "",
            template: template.manifest.name,
            createdBy: access.userId,
          })
          .onConflictDoNothing()
          .returning();
        if (inserted) {
          // Files are made inside the transaction: if they fail, the row is rolled back with them.
          const dir = this.#storage.projectDir(access.org.id, id);
          let announced = false;
          try {
            const project = toProject(access.org.id, inserted);
            await makeFiles(dir, () => {
              announced = true;
              for (const listener of this.#createListeners) listener(access, project, input);
            });
          } catch (err) {
            // Only what was told of the project (a dev server started) has anything to forget; the others
            // would query tables this open transaction holds (a deadlock on a single-connection database).
            if (announced) for (const listener of this.#deleteListeners) await listener(access.org.id, id);
            await this.#storage.removeProject(access.org.id, id);
            throw err;
          }
          await recordAudit(tx, {
            orgId: access.org.id,
            action: audit.action,
            actor: userActor(access),
            projectId: id,
            target: { type: "project", id, label: inserted.name },
            data: { slug: inserted.slug, template: inserted.template, ...audit.data },
          });
          return inserted;
        }
        // An explicit slug is the caller's choice: say it is taken. A derived one gets a suffix.
        if (input.slug || attempt >= 5)
          throw new ConflictError("slug_taken", `a project with slug "${slug}" exists`);
        slug = withSuffix(slugify(input.name));
      }
    });
    return toProject(access.org.id, row);
  }

  async #assertRoom(access: OrgAccess): Promise<void> {
    const limits = this.#limits;
    if (limits) {
      await this.#database.tenant(access.org.schemaName, (tx) =>
        assertProjectRoom(tx, access.org.id, limits),
      );
    }
  }

  async update(access: OrgAccess, ref: string, input: UpdateProjectBody): Promise<Project> {
    requirePermission(access.role, "projects.write");
    assertNotIdShaped(input.slug);
    try {
      const row = await this.#database.tenant(access.org.schemaName, async (tx) => {
        const current = await findProject(tx, ref);
        if (input.previewPublic !== undefined && input.previewPublic !== current.previewPublic) {
          requirePermission(access.role, "projects.publish");
        }
        const [updated] = await tx
          .update(projects)
          .set({
            name: input.name ?? current.name,
            slug: input.slug ?? current.slug,
            description: input.description ?? current.description,
            previewPublic: input.previewPublic ?? current.previewPublic,
            updatedAt: new Date(),
          })
          .where(eq(projects.id, current.id))
          .returning();
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        for (const key of ["name", "slug", "description", "previewPublic"] as const) {
          if (current[key] !== updated![key]) changes[key] = { from: current[key], to: updated![key] };
        }
        if (Object.keys(changes).length > 0) {
          await recordAudit(tx, {
            orgId: access.org.id,
            action: "project.updated",
            actor: userActor(access),
            projectId: current.id,
            target: { type: "project", id: current.id, label: updated!.name },
            data: { changed: Object.keys(changes), ...changes },
          });
        }
        return updated!;
      });
      return toProject(access.org.id, row);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) {
        throw new ConflictError("slug_taken", `a project with slug "${input.slug}" exists`);
      }
      throw err;
    }
  }

  async delete(access: OrgAccess, ref: string): Promise<void> {
    requirePermission(access.role, "projects.delete");
    await this.#remove(access, ref);
  }

  /**
   * Takes back a project its caller created a moment ago when what it was created for failed next (a
   * prompt-first start whose first turn was refused): only the creator, with no more than `projects.write`.
   */
  async discard(access: OrgAccess, projectId: string): Promise<void> {
    requirePermission(access.role, "projects.write");
    await this.#remove(access, projectId, access.userId);
  }

  async #remove(access: OrgAccess, ref: string, createdBy?: string): Promise<void> {
    const id = await this.#database.tenant(access.org.schemaName, async (tx) => {
      const current = await findProject(tx, ref);
      if (createdBy !== undefined && current.createdBy !== createdBy)
        throw new NotFoundError("project_not_found", "project not found");
      await tx.delete(projects).where(eq(projects.id, current.id));
      await recordAudit(tx, {
        orgId: access.org.id,
        action: "project.deleted",
        actor: userActor(access),
        projectId: current.id,
        target: { type: "project", id: current.id, label: current.name },
        data: { slug: current.slug, ...(createdBy === undefined ? {} : { discarded: true }) },
      });
      return current.id;
    });
    for (const listener of this.#deleteListeners) await listener(access.org.id, id);
    await this.#storage.removeProject(access.org.id, id);
  }
}

/**
 * Where an imported project came from: an uploaded zip, a git URL (without any credentials in it), or a
 * marketplace listing's version (ADR 0040).
 */
export type ImportSource =
  | { kind: "zip" }
  | { kind: "git"; url: URL; branch: string; hostId?: string }
  | { kind: "marketplace"; listingId: string; version: number };

function importData(source: ImportSource): Record<string, unknown> {
  if (source.kind === "zip") return { sourceKind: "zip" };
  if (source.kind === "marketplace")
    return { sourceKind: "marketplace", listingId: source.listingId, version: source.version };
  const url = new URL(source.url.href);
  url.username = "";
  url.password = "";
  url.search = "";
  url.hash = "";
  return {
    sourceKind: "git",
    url: url.href,
    branch: source.branch,
    ...(source.hostId ? { gitHostId: source.hostId } : {}),
  };
}

async function findProject(tx: Executor, ref: string): Promise<ProjectRow> {
  // An id-shaped ref is an id only, so a project whose slug is spelled like another's id cannot stand in for it.
  const match = looksLikeId(ref) ? eq(projects.id, ref.toLowerCase()) : eq(projects.slug, ref);
  const [row] = await tx.select().from(projects).where(match).limit(1);
  if (!row) throw new NotFoundError("project_not_found", "project not found");
  return row;
}

function assertNotIdShaped(slug: string | undefined): void {
  if (slug !== undefined && looksLikeId(slug)) {
    throw new BadRequestError("slug_reserved", "a slug cannot look like an id; ids and slugs share URLs");
  }
}
