import { randomUUID } from "node:crypto";
import type {
  CreateDeployTargetBody,
  DeployTarget,
  DeployTargetKind,
  ProjectDeployTarget,
  UpdateDeployTargetBody,
} from "@kiln/protocol";
import { and, eq } from "drizzle-orm";
import { recordAudit, userActor } from "../../audit/index.ts";
import type { Database, Executor } from "../../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../../db/errors.ts";
import { deployTargets, projectDeployTargets } from "../../db/schema-tenant.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../../errors/errors.ts";
import { requirePermission } from "../../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../../orgs/service.ts";
import type { ProjectService } from "../../projects/service.ts";
import type { SecretBox } from "../../secrets/secret-box.ts";
import type { TargetContext } from "./adapter.ts";

type Row = typeof deployTargets.$inferSelect;

export interface DeployTargetOptions {
  database: Database;
  projects: ProjectService;
  secrets: SecretBox;
  /** The providers' API roots (operator config). */
  apiUrls: Record<DeployTargetKind, string>;
  /** The egress-checked fetch every provider call goes through. */
  fetch: typeof fetch;
  pollMs: number;
  timeoutMs: number;
}

/** What a deployment to a target needs: the target as stored and a context with its token opened. */
export interface OpenTarget {
  row: Row;
  context(signal: AbortSignal, log: (line: string) => void): TargetContext;
}

/**
 * An org's deploy targets (ADR 0024). Tokens are sealed with the SecretBox bound to
 * `org:<id>:deploy-target:<row id>` (a sealed token copied to another row or org does not open) and leave this
 * class only inside a TargetContext for a deployment, never in an answer.
 */
export class DeployTargetService {
  readonly #o: DeployTargetOptions;

  constructor(options: DeployTargetOptions) {
    this.#o = options;
  }

  async list(access: OrgAccess): Promise<DeployTarget[]> {
    requirePermission(access.role, "deployTargets.read");
    const rows = await this.#o.database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(deployTargets).orderBy(deployTargets.name),
    );
    return rows.map(toTarget);
  }

  async create(access: OrgAccess, input: CreateDeployTargetBody): Promise<DeployTarget> {
    requirePermission(access.role, "deployTargets.manage");
    const id = randomUUID();
    const row = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const [inserted] = await tx
        .insert(deployTargets)
        .values({
          id,
          kind: input.kind,
          name: input.name,
          ...this.#seal(access.org, id, input.token),
          teamId: input.kind === "vercel" ? (input.teamId ?? null) : null,
          accountId: input.kind === "cloudflare-pages" ? input.accountId : null,
          createdBy: access.userId,
        })
        .onConflictDoNothing()
        .returning();
      if (inserted) await auditTarget(tx, access, "deploy_target.created", inserted);
      return inserted;
    });
    if (!row) throw nameTaken(input.name);
    return toTarget(row);
  }

  async update(access: OrgAccess, id: string, input: UpdateDeployTargetBody): Promise<DeployTarget> {
    requirePermission(access.role, "deployTargets.manage");
    try {
      const row = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
        const current = await findTarget(tx, id);
        if (input.teamId !== undefined && current.kind !== "vercel")
          throw new BadRequestError("validation_failed", "teamId is for vercel targets");
        if (input.accountId !== undefined && current.kind !== "cloudflare-pages")
          throw new BadRequestError("validation_failed", "accountId is for cloudflare-pages targets");
        const [updated] = await tx
          .update(deployTargets)
          .set({
            ...(input.name === undefined ? {} : { name: input.name }),
            ...(input.token === undefined ? {} : this.#seal(access.org, current.id, input.token)),
            ...(input.teamId === undefined ? {} : { teamId: input.teamId }),
            ...(input.accountId === undefined ? {} : { accountId: input.accountId }),
            updatedAt: new Date(),
          })
          .where(eq(deployTargets.id, current.id))
          .returning();
        const changed = (["name", "teamId", "accountId"] as const).filter(
          (k) => input[k] !== undefined && input[k] !== current[k],
        );
        if (changed.length > 0 || input.token !== undefined) {
          await auditTarget(tx, access, "deploy_target.updated", updated!, {
            changed,
            ...(input.token === undefined ? {} : { keyChanged: true }),
            ...(changed.includes("name") ? { previousName: current.name } : {}),
          });
        }
        return updated!;
      });
      return toTarget(row);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw nameTaken(input.name ?? "");
      throw err;
    }
  }

  async remove(access: OrgAccess, id: string): Promise<void> {
    requirePermission(access.role, "deployTargets.manage");
    await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const current = await findTarget(tx, id);
      await tx.delete(deployTargets).where(eq(deployTargets.id, current.id));
      await auditTarget(tx, access, "deploy_target.deleted", current);
    });
  }

  async ofProject(access: OrgAccess, ref: string): Promise<ProjectDeployTarget[]> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    const rows = await this.#o.database.tenant(access.org.schemaName, (tx) =>
      tx
        .select({ target: deployTargets, link: projectDeployTargets })
        .from(deployTargets)
        .leftJoin(
          projectDeployTargets,
          and(
            eq(projectDeployTargets.targetId, deployTargets.id),
            eq(projectDeployTargets.projectId, project.id),
          ),
        )
        .orderBy(deployTargets.name),
    );
    return rows.map(({ target, link }) => ({
      target: toTarget(target),
      autoDeploy: link?.autoDeploy ?? false,
      providerProject: link?.providerProject ?? null,
    }));
  }

  async setAutoDeploy(
    access: OrgAccess,
    ref: string,
    targetId: string,
    autoDeploy: boolean,
  ): Promise<ProjectDeployTarget> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    return this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const target = await findTarget(tx, targetId);
      const [link] = await tx
        .insert(projectDeployTargets)
        .values({ projectId: project.id, targetId: target.id, autoDeploy })
        .onConflictDoUpdate({
          target: [projectDeployTargets.projectId, projectDeployTargets.targetId],
          set: { autoDeploy, updatedAt: new Date() },
        })
        .returning();
      return { target: toTarget(target), autoDeploy, providerProject: link?.providerProject ?? null };
    });
  }

  /** A target of the org, token opened, for a deployment; 404 when it is not the org's. No permission check. */
  async open(org: OrgRow, targetId: string): Promise<OpenTarget> {
    const row = await this.#o.database.tenant(org.schemaName, (tx) => findTarget(tx, targetId));
    return {
      row,
      context: (signal, log) => ({
        apiUrl: this.#o.apiUrls[row.kind as DeployTargetKind],
        // Opened only now, for this deployment; a wrong master key fails here, as the deployment's error.
        token: this.#o.secrets.decrypt(row.tokenSealed, tokenContext(org, row.id)),
        teamId: row.teamId,
        accountId: row.accountId,
        fetch: this.#o.fetch,
        pollMs: this.#o.pollMs,
        timeoutMs: this.#o.timeoutMs,
        signal,
        log,
      }),
    };
  }

  /** The provider-side project or site a project's earlier deployment to the target made, if any. */
  async providerProject(org: OrgRow, projectId: string, targetId: string): Promise<string | null> {
    const [link] = await this.#o.database.tenant(org.schemaName, (tx) =>
      tx
        .select({ providerProject: projectDeployTargets.providerProject })
        .from(projectDeployTargets)
        .where(
          and(eq(projectDeployTargets.projectId, projectId), eq(projectDeployTargets.targetId, targetId)),
        ),
    );
    return link?.providerProject ?? null;
  }

  async rememberProject(
    org: OrgRow,
    projectId: string,
    targetId: string,
    providerProject: string,
  ): Promise<void> {
    await this.#o.database.tenant(org.schemaName, (tx) =>
      tx
        .insert(projectDeployTargets)
        .values({ projectId, targetId, providerProject })
        .onConflictDoUpdate({
          target: [projectDeployTargets.projectId, projectDeployTargets.targetId],
          set: { providerProject, updatedAt: new Date() },
        }),
    );
  }

  /** The targets a project deploys to when work is merged into its main. */
  async autoDeployTargets(org: OrgRow, projectId: string): Promise<string[]> {
    const rows = await this.#o.database.tenant(org.schemaName, (tx) =>
      tx
        .select({ targetId: projectDeployTargets.targetId })
        .from(projectDeployTargets)
        .where(and(eq(projectDeployTargets.projectId, projectId), eq(projectDeployTargets.autoDeploy, true))),
    );
    return rows.map((r) => r.targetId);
  }

  #seal(org: OrgRow, id: string, token: string) {
    return {
      tokenSealed: this.#o.secrets.encrypt(token, tokenContext(org, id)),
      tokenHint: `…${token.slice(-4)}`,
    };
  }
}

function tokenContext(org: OrgRow, targetId: string): string {
  return `org:${org.id}:deploy-target:${targetId}`;
}

/** What a record says of a target: its kind, name and account; never its token. */
async function auditTarget(
  tx: Executor,
  access: OrgAccess,
  action: "deploy_target.created" | "deploy_target.updated" | "deploy_target.deleted",
  row: Row,
  more: Record<string, unknown> = {},
): Promise<void> {
  await recordAudit(tx, {
    orgId: access.org.id,
    action,
    actor: userActor(access),
    target: { type: "deploy_target", id: row.id, label: row.name },
    data: {
      kind: row.kind,
      name: row.name,
      ...(row.teamId ? { teamId: row.teamId } : {}),
      ...(row.accountId ? { accountId: row.accountId } : {}),
      ...more,
    },
  });
}

async function findTarget(tx: Executor, id: string): Promise<Row> {
  const [row] = await tx.select().from(deployTargets).where(eq(deployTargets.id, id)).limit(1);
  if (!row) throw new NotFoundError("deploy_target_not_found", "no such deploy target in this org");
  return row;
}

function nameTaken(name: string): ConflictError {
  return new ConflictError(
    "deploy_target_name_taken",
    `a deploy target named "${name}" already exists in this org`,
  );
}

function toTarget(row: Row): DeployTarget {
  return {
    id: row.id,
    kind: row.kind as DeployTargetKind,
    name: row.name,
    tokenHint: row.tokenHint,
    teamId: row.teamId,
    accountId: row.accountId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
