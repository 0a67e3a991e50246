import { ARTIFACT_LIMITS, type TemplateManifest } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import { recordAudit, SYSTEM_ACTOR } from "../audit/index.ts";
import type { Database } from "../db/client.ts";
import { deployments, projects } from "../db/schema-tenant.ts";
import { KilnError } from "../errors/errors.ts";
import { ProjectRoot } from "../files/project-root.ts";
import type { OrgEvents } from "../orgs/events.ts";
import type { OrgRow } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ExecResult } from "../sandbox/driver.ts";
import type { Owner } from "../sandbox/workspace-owner.ts";
import type { ArtifactStore } from "./artifacts.ts";
import { buildLog } from "./build-log.ts";
import { shipToTarget } from "./external.ts";
import { PRODUCTION_MODULES, pruneForProduction } from "./production-deps.ts";
import { TargetError } from "./targets/adapter.ts";
import type { DeployTargetService, OpenTarget } from "./targets/service.ts";

type Row = typeof deployments.$inferSelect;

/** A build that has run this long is over, whatever its row says (the server that ran it stopped). */
export const BUILD_TIMEOUT_MS = 10 * 60_000;

export interface DeploymentOptions {
  database: Database;
  projects: ProjectService;
  artifacts: ArtifactStore;
  /** The org's external deploy targets (ADR 0024). */
  targets: DeployTargetService;
  /** The template's manifest, for its `build` section (never read from the workspace: the tenant owns that). */
  manifestOf(template: string): TemplateManifest | undefined;
  projectDir(orgId: string, projectId: string): string;
  ownerOf(projectId: string): Owner | undefined;
  /** Commits the working tree (when it changed) and answers the commit the build is made from. */
  commit(orgId: string, projectId: string): Promise<string | null>;
  /** Runs the build command in the project's sandbox, with its limits. */
  build(orgId: string, projectId: string, argv: string[], signal: AbortSignal): Promise<ExecResult>;
  /** The public address of a project: `https://<project>--<org>.<publish domain>`. */
  urlOf(orgSlug: string, projectSlug: string): string;
  /** Told when a project's current deployment changed (the sites' cache). */
  onPromoted?(orgSlug: string, projectSlug: string): void;
  /** `deployment.finished` for the org's webhooks (orgs/events.ts), once the row says how it ended. */
  events?: OrgEvents;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/**
 * One deployment, start to end (ADR 0023, 0024): commit, build in the project's sandbox, capture the output
 * into the artifact store; then either make it current on Kiln's hosting or ship it to the external target.
 * Whatever happens ends in the row: `ready` or `failed` with a sentence, and the log.
 */
export async function runDeployment(
  o: DeploymentOptions,
  job: {
    org: OrgRow;
    project: { id: string; slug: string };
    id: string;
    build: NonNullable<TemplateManifest["build"]>;
    target: OpenTarget | null;
  },
  signal: AbortSignal,
): Promise<void> {
  const { org, project, id, build, target } = job;
  const log = buildLog(ARTIFACT_LIMITS.logBytes);
  const finish = async (values: Partial<Row>, promote: boolean) => {
    await o.database.tenant(org.schemaName, async (tx) => {
      const [row] = await tx
        .update(deployments)
        .set({ ...values, log: log.text(), finishedAt: new Date() })
        .where(eq(deployments.id, id))
        .returning();
      if (promote)
        await tx.update(projects).set({ currentDeploymentId: id }).where(eq(projects.id, project.id));
      // Published: live on Kiln's hosting, or shipped to the target. For whoever started it (a merge's
      // auto-deploy: who merged), or Kiln itself.
      if (row && values.status === "ready") {
        await recordAudit(tx, {
          orgId: org.id,
          action: "deployment.published",
          actor: row.createdBy ? { type: "user", userId: row.createdBy } : SYSTEM_ACTOR,
          projectId: project.id,
          target: { type: "deployment", id, label: `#${row.number}` },
          data: {
            deploymentId: id,
            number: row.number,
            commit: row.commitSha,
            target: target ? { id: target.row.id, kind: target.row.kind, name: target.row.name } : "kiln",
            url: row.url ?? o.urlOf(org.slug, project.slug),
          },
        });
      }
    });
    if (promote) o.onPromoted?.(org.slug, project.slug);
    o.events?.emit(org.id, "deployment.finished", project.id, {
      deployment: {
        id,
        status: values.status,
        target: target ? { id: target.row.id, kind: target.row.kind } : null,
        url: values.url ?? (values.status === "ready" && !target ? o.urlOf(org.slug, project.slug) : null),
        error: values.error ?? null,
      },
    });
  };
  try {
    const commit = await o.commit(org.id, project.id);
    if (commit) log.line(`commit ${commit}`);
    await o.database.tenant(org.schemaName, (tx) =>
      tx.update(deployments).set({ commitSha: commit }).where(eq(deployments.id, id)),
    );
    if (build.argv) {
      log.line(`$ ${build.argv.join(" ")}`);
      const result = await o.build(org.id, project.id, build.argv, signal);
      log.output(result.stdout, result.stderr);
      if (result.timedOut)
        throw new BuildFailed(`the build took longer than ${BUILD_TIMEOUT_MS / 60_000} minutes`);
      if (result.oomKilled) throw new BuildFailed("the build ran out of memory");
      if (result.exitCode !== 0)
        throw new BuildFailed(`the build failed (exit ${result.exitCode ?? result.signal})`);
    }
    const production =
      build.serve !== undefined &&
      (await pruneForProduction((argv) => o.build(org.id, project.id, argv, signal), log));
    const root = await ProjectRoot.open(o.projectDir(org.id, project.id), o.ownerOf(project.id));
    const dependencies = production
      ? await root.openDir([...PRODUCTION_MODULES]).catch(() => undefined)
      : undefined;
    const segments = build.output === "." ? [] : build.output.split("/");
    const output = await root.openDir(segments).catch(() => {
      throw new BuildFailed(`the build made no ${build.output}/ directory`);
    });
    let captured: Awaited<ReturnType<ArtifactStore["capture"]>>;
    try {
      captured = await o.artifacts.capture(root, output, {
        spa: build.spa,
        exclude: build.exclude,
        server: build.serve,
        // A server runs with its production dependencies (the workspace's all, when pruning failed).
        dependencies: build.serve !== undefined,
        dependenciesFrom: dependencies,
      });
    } finally {
      await output.close();
      await dependencies?.close();
    }
    for (const note of captured.skipped.slice(0, 50)) log.line(`left out: ${note}`);
    if (!build.serve && !captured.manifest.files["index.html"])
      throw new BuildFailed(`the build output has no index.html in ${build.output}/`);
    const entry = build.serve?.argv.find((a) => /\.[cm]?js$/.test(a));
    if (entry && !captured.manifest.files[entry])
      throw new BuildFailed(`the build output has no ${entry}, which the server starts from`);
    const values = { artifact: captured.manifest, fileCount: captured.files, byteCount: captured.bytes };
    if (!target) {
      log.line(`published ${captured.files} files, ${captured.bytes} bytes`);
      await finish({ status: "ready", ...values }, true);
      return;
    }
    log.line(`built ${captured.files} files, ${captured.bytes} bytes`);
    // Recorded before the upload: the log shows what was built while the host takes it.
    await o.database.tenant(org.schemaName, (tx) =>
      tx
        .update(deployments)
        .set({ ...values, log: log.text() })
        .where(eq(deployments.id, id)),
    );
    const shipped = await shipToTarget({
      targets: o.targets,
      artifacts: o.artifacts,
      target,
      org,
      project,
      manifest: captured.manifest,
      signal,
      log: (line) => log.line(line),
    });
    const external = { url: shipped.url, providerDeploymentId: shipped.providerDeploymentId };
    await finish({ status: "ready", ...values, ...external }, false);
  } catch (err) {
    const message =
      err instanceof BuildFailed || err instanceof KilnError || err instanceof TargetError
        ? err.message
        : signal.aborted
          ? "the server stopped during the build"
          : "the build could not be completed";
    if (!(err instanceof BuildFailed || err instanceof KilnError || err instanceof TargetError))
      o.log?.error({ err, deployment: id }, "publishing failed");
    log.line(message);
    await finish({ status: "failed", error: message }, false).catch((e: unknown) =>
      o.log?.warn({ err: e, deployment: id }, "could not record a failed deployment"),
    );
  }
}

class BuildFailed extends Error {}
