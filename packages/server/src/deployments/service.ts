import { randomUUID } from "node:crypto";
import type { Deployment, DeploymentList, DeploymentLog, DeployTargetKind } from "@kiln/protocol";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database } from "../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../db/errors.ts";
import { deployments, projects } from "../db/schema-tenant.ts";
import { ConflictError, NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../orgs/service.ts";
import type { ArtifactManifest } from "./manifest.ts";
import { BUILD_TIMEOUT_MS, type DeploymentOptions, runDeployment } from "./pipeline.ts";
import type { OpenTarget } from "./targets/service.ts";

type Row = typeof deployments.$inferSelect;

export { BUILD_TIMEOUT_MS, type DeploymentOptions } from "./pipeline.ts";

const STALE_MS = BUILD_TIMEOUT_MS + 60_000;
/** Artifact manifests kept in memory for the sites (a manifest is a few KB to a few MB). */
const MANIFESTS_KEPT = 200;

/**
 * Publishing (ADR 0023). `create` records a deployment as building and answers at once; the build runs in
 * the project's sandbox, its output is captured into the content-addressed artifact store, and a build that
 * succeeds becomes the project's current deployment. Promoting an older one (a rollback) moves one pointer.
 */
export class DeploymentService {
  readonly #o: DeploymentOptions;
  readonly #running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /** Built artifacts by deployment id (immutable), the oldest read first out. */
  readonly #manifests = new Map<string, ArtifactManifest>();
  readonly #autoDeploys = new Set<Promise<void>>();
  /** Closing: auto-deploys start nothing more. */
  #closed = false;

  constructor(options: DeploymentOptions) {
    this.#o = options;
  }

  async list(access: OrgAccess, ref: string): Promise<DeploymentList> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    const [rows, current] = await this.#o.database.tenant(access.org.schemaName, async (tx) => [
      await tx
        .select()
        .from(deployments)
        .where(eq(deployments.projectId, project.id))
        .orderBy(desc(deployments.number))
        .limit(100),
      await currentOf(tx, project.id),
    ]);
    return {
      url: this.#o.urlOf(access.org.slug, project.slug),
      deployments: rows.map((row) => toDeployment(row, current)),
    };
  }

  async get(access: OrgAccess, ref: string, id: string): Promise<Deployment> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    return this.#o.database.tenant(access.org.schemaName, async (tx) =>
      toDeployment(await rowOf(tx, project.id, id), await currentOf(tx, project.id)),
    );
  }

  async log(access: OrgAccess, ref: string, id: string): Promise<DeploymentLog> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    const row = await this.#o.database.tenant(access.org.schemaName, (tx) => rowOf(tx, project.id, id));
    return { status: row.status as Deployment["status"], log: row.log };
  }

  async create(access: OrgAccess, ref: string): Promise<Deployment> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    return this.#start(access.org, project, access.userId, null);
  }

  /** Publish to an external target: the same build and log, then the target's adapter ships the files. */
  async deployTo(access: OrgAccess, ref: string, targetId: string): Promise<Deployment> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const target = await this.#o.targets.open(access.org, targetId);
    return this.#start(access.org, project, access.userId, target);
  }

  /**
   * A task's work was merged into the project's main (board review): deploy to each target whose switch is
   * on, one after the other (one build at a time per project). Never throws: the merge is done either way.
   */
  autoDeploy(org: OrgRow, projectId: string, userId: string | null): Promise<void> {
    const run = async () => {
      const ids = await this.#o.targets.autoDeployTargets(org, projectId);
      if (!ids.length) return;
      const [project] = await this.#o.database.tenant(org.schemaName, (tx) =>
        tx
          .select({ id: projects.id, slug: projects.slug, template: projects.template })
          .from(projects)
          .where(eq(projects.id, projectId)),
      );
      if (!project) return;
      for (const id of ids) {
        if (this.#closed) return;
        try {
          const started = await this.#start(org, project, userId, await this.#o.targets.open(org, id));
          await this.#running.get(started.id)?.done;
        } catch (err) {
          this.#o.log?.warn({ err, projectId, target: id }, "auto-deploy after a merge did not start");
        }
      }
    };
    const done = run().catch((err: unknown) => this.#o.log?.warn({ err, projectId }, "auto-deploy failed"));
    this.#autoDeploys.add(done);
    return done.finally(() => this.#autoDeploys.delete(done));
  }

  async #start(
    org: OrgRow,
    project: { id: string; slug: string; template: string },
    userId: string | null,
    target: OpenTarget | null,
  ): Promise<Deployment> {
    const build = this.#o.manifestOf(project.template)?.build;
    if (!build)
      throw new ConflictError(
        "not_publishable",
        `the ${project.template} template has no production build yet`,
      );
    if (target && build.serve)
      throw new ConflictError(
        "deploy_target_static_only",
        `a server app (${project.template}) runs on Kiln's hosting; ${target.row.kind} takes static files only`,
      );
    const id = randomUUID();
    const row = await this.#o.database
      .tenant(org.schemaName, async (tx) => {
        // A build whose server stopped never finished: it must not block the next one for ever.
        await tx
          .update(deployments)
          .set({ status: "failed", error: "the build was interrupted", finishedAt: new Date() })
          .where(
            and(
              eq(deployments.projectId, project.id),
              eq(deployments.status, "building"),
              lt(deployments.createdAt, new Date(Date.now() - STALE_MS)),
            ),
          );
        const [inserted] = await tx
          .insert(deployments)
          .values({
            id,
            projectId: project.id,
            number: sql`(SELECT coalesce(max(number), 0) + 1 FROM deployments WHERE project_id = ${project.id})`,
            status: "building",
            createdBy: userId,
            ...(target
              ? { targetId: target.row.id, targetName: target.row.name, targetKind: target.row.kind }
              : {}),
          })
          .returning();
        return inserted!;
      })
      .catch((err: unknown) => {
        if (pgErrorCode(err) === UNIQUE_VIOLATION)
          throw new ConflictError("deployment_in_progress", "this project is already being published");
        throw err;
      });
    const abort = new AbortController();
    const done = runDeployment(this.#o, { org, project, id, build, target }, abort.signal).finally(() =>
      this.#running.delete(id),
    );
    this.#running.set(id, { abort, done });
    return toDeployment(row, null);
  }

  async promote(access: OrgAccess, ref: string, id: string): Promise<Deployment> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const row = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const row = await rowOf(tx, project.id, id);
      if (row.targetKind)
        throw new ConflictError(
          "deployment_external",
          `deployment #${row.number} is served by ${row.targetName}; deploy again there to change what it serves`,
        );
      if (row.status !== "ready")
        throw new ConflictError("deployment_not_ready", `deployment #${row.number} is ${row.status}`);
      const [before] = await tx
        .select({ current: projects.currentDeploymentId })
        .from(projects)
        .where(eq(projects.id, project.id))
        .for("update");
      await tx.update(projects).set({ currentDeploymentId: id }).where(eq(projects.id, project.id));
      if (before?.current !== id) {
        const [from] = before?.current
          ? await tx
              .select({ number: deployments.number })
              .from(deployments)
              .where(eq(deployments.id, before.current))
          : [];
        await recordAudit(tx, {
          orgId: access.org.id,
          action: "deployment.rolled_back",
          actor: userActor(access),
          projectId: project.id,
          target: { type: "deployment", id, label: `#${row.number}` },
          data: {
            deploymentId: id,
            number: row.number,
            fromDeploymentId: before?.current ?? null,
            fromNumber: from?.number ?? null,
          },
        });
      }
      return row;
    });
    this.#o.onPromoted?.(access.org.slug, project.slug);
    return toDeployment(row, id);
  }

  /**
   * What a project's public address serves: its current deployment's files, if any. Asked about once a
   * second per host; an artifact never changes once built, so only its id is read each time and the
   * manifest (up to thousands of files) is read once per deployment.
   */
  async current(
    schemaName: string,
    projectSlug: string,
  ): Promise<{ id: string; projectId: string; manifest: ArtifactManifest } | undefined> {
    return this.#o.database.tenant(schemaName, async (tx) => {
      const [found] = await tx
        .select({ id: deployments.id, projectId: deployments.projectId })
        .from(projects)
        .innerJoin(deployments, eq(deployments.id, projects.currentDeploymentId))
        .where(eq(projects.slug, projectSlug))
        .limit(1);
      if (!found) return undefined;
      let manifest = this.#manifests.get(found.id);
      if (!manifest) {
        const [row] = await tx
          .select({ artifact: deployments.artifact })
          .from(deployments)
          .where(eq(deployments.id, found.id));
        if (!row?.artifact) return undefined;
        manifest = row.artifact as ArtifactManifest;
        if (this.#manifests.size >= MANIFESTS_KEPT)
          this.#manifests.delete(this.#manifests.keys().next().value!);
        this.#manifests.set(found.id, manifest);
      }
      return { id: found.id, projectId: found.projectId, manifest };
    });
  }

  /** Stops running builds (server shutdown); their rows stay `building` until the next publish clears them. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const { abort } of this.#running.values()) abort.abort();
    await Promise.allSettled([...this.#autoDeploys]);
    for (const { abort } of this.#running.values()) abort.abort();
    await Promise.allSettled([...this.#running.values()].map((r) => r.done));
  }
}

async function rowOf(tx: Parameters<Parameters<Database["tenant"]>[1]>[0], projectId: string, id: string) {
  const [row] = await tx
    .select()
    .from(deployments)
    .where(and(eq(deployments.projectId, projectId), eq(deployments.id, id)))
    .limit(1);
  if (!row) throw new NotFoundError("deployment_not_found", "no such deployment in this project");
  return row;
}

async function currentOf(tx: Parameters<Parameters<Database["tenant"]>[1]>[0], projectId: string) {
  const [row] = await tx
    .select({ current: projects.currentDeploymentId })
    .from(projects)
    .where(eq(projects.id, projectId))
    .limit(1);
  return row?.current ?? null;
}

function toDeployment(row: Row, current: string | null): Deployment {
  return {
    id: row.id,
    number: row.number,
    status: row.status as Deployment["status"],
    commit: row.commitSha,
    files: row.fileCount,
    bytes: row.byteCount,
    error: row.error,
    current: row.id === current,
    server: Boolean((row.artifact as ArtifactManifest | null)?.server),
    target: row.targetKind
      ? { id: row.targetId, name: row.targetName ?? "", kind: row.targetKind as DeployTargetKind }
      : null,
    url: row.url,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
