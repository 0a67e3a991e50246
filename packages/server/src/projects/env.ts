import {
  can,
  ENV_LIMITS,
  ENV_NAME_PATTERN,
  type EnvVar,
  type EnvVarSaved,
  type Project,
  reservedEnvName,
  type SetEnvVarBody,
} from "@kiln/protocol";
import { and, count, eq, sql } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import { assertSchemaName, type Database, type Executor, query } from "../db/client.ts";
import { projectEnvVars, projects } from "../db/schema-tenant.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../orgs/service.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import type { ProjectService } from "./service.ts";

type EnvRow = typeof projectEnvVars.$inferSelect;

/**
 * Told after a project's environment changed; answers whether its dev server restarts to see it (the dev
 * servers register one, devserver/index.ts: a project sits below its runtime).
 */
export type EnvChangeListener = (access: OrgAccess, project: Project) => Promise<boolean>;

export interface ProjectEnvOptions {
  database: Database;
  secrets: SecretBox;
  projects: ProjectService;
  /** An org by id, for the runtime (a dev server knows its project by ids only). */
  orgRow(orgId: string): Promise<OrgRow>;
  log?: { warn(obj: object, msg: string): void };
}

/** Shows that a long secret is the one you think, never enough of it to matter; nothing of a short one. */
export function secretHint(value: string): string | null {
  const chars = [...value];
  return chars.length >= ENV_LIMITS.hintMinChars ? `…${chars.slice(-4).join("")}` : null;
}

/**
 * A project's environment variables. Every value is sealed with the SecretBox, bound to
 * `org:<id>:project:<id>:env:<name>`, so a sealed value copied to another row, project or org does not
 * open. Plain values are shown to those who may change the project; a secret's value leaves this class
 * only in `forProject`, the environment of the project's own sandboxed processes (dev server, terminals,
 * the agent's commands) — never in an API answer, the repository or a log.
 */
export class ProjectEnvService {
  readonly #o: ProjectEnvOptions;
  readonly #listeners: EnvChangeListener[] = [];

  constructor(options: ProjectEnvOptions) {
    this.#o = options;
  }

  onChange(listener: EnvChangeListener): void {
    this.#listeners.push(listener);
  }

  async list(access: OrgAccess, ref: string): Promise<EnvVar[]> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    const rows = await this.#o.database.tenant(access.org.schemaName, (tx) =>
      tx
        .select()
        .from(projectEnvVars)
        .where(eq(projectEnvVars.projectId, project.id))
        .orderBy(projectEnvVars.name),
    );
    // Viewers and reviewers cannot run code in the project, so its values are not theirs to read: names only.
    const full = can(access.role, "projects.write");
    return rows.map((row) => this.#toEnvVar(access.org, row, full));
  }

  async set(access: OrgAccess, ref: string, input: SetEnvVarBody): Promise<EnvVarSaved> {
    requirePermission(access.role, "projects.write");
    const reserved = reservedEnvName(input.name);
    if (reserved) {
      throw new BadRequestError("env_var_reserved", reserved, {
        issues: [{ path: ["name"], message: reserved }],
      });
    }
    const project = await this.#o.projects.get(access, ref);
    const row = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      await lockProject(tx, project.id);
      const [existing] = await tx
        .select({ name: projectEnvVars.name })
        .from(projectEnvVars)
        .where(and(eq(projectEnvVars.projectId, project.id), eq(projectEnvVars.name, input.name)));
      if (!existing) {
        const [held] = await tx
          .select({ n: count() })
          .from(projectEnvVars)
          .where(eq(projectEnvVars.projectId, project.id));
        if ((held?.n ?? 0) >= ENV_LIMITS.perProject) {
          throw new ConflictError(
            "too_many_env_vars",
            `a project holds at most ${ENV_LIMITS.perProject} environment variables; remove one first`,
          );
        }
      }
      const values = {
        secret: input.secret,
        valueSealed: this.#o.secrets.encrypt(input.value, sealContext(access.org, project.id, input.name)),
        hint: input.secret ? secretHint(input.value) : null,
        updatedBy: access.userId,
        updatedAt: new Date(),
      };
      const [saved] = await tx
        .insert(projectEnvVars)
        .values({ projectId: project.id, name: input.name, ...values })
        .onConflictDoUpdate({ target: [projectEnvVars.projectId, projectEnvVars.name], set: values })
        .returning();
      // Never the value: its name, whether it is a secret, whether it is new.
      await recordAudit(tx, {
        orgId: access.org.id,
        action: "project.env_set",
        actor: userActor(access),
        projectId: project.id,
        target: { type: "env_var", id: `${project.id}:${input.name}`, label: input.name },
        data: { name: input.name, secret: input.secret, created: !existing },
      });
      return saved!;
    });
    return {
      variable: this.#toEnvVar(access.org, row, true),
      restarted: await this.#changed(access, project),
    };
  }

  async remove(access: OrgAccess, ref: string, name: string): Promise<{ ok: true; restarted: boolean }> {
    requirePermission(access.role, "projects.write");
    const project = await this.#o.projects.get(access, ref);
    const removed = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      await lockProject(tx, project.id);
      const deleted = await tx
        .delete(projectEnvVars)
        .where(and(eq(projectEnvVars.projectId, project.id), eq(projectEnvVars.name, name)))
        .returning({ name: projectEnvVars.name, secret: projectEnvVars.secret });
      if (deleted.length > 0) {
        await recordAudit(tx, {
          orgId: access.org.id,
          action: "project.env_deleted",
          actor: userActor(access),
          projectId: project.id,
          target: { type: "env_var", id: `${project.id}:${name}`, label: name },
          data: { name, secret: deleted[0]!.secret },
        });
      }
      return deleted;
    });
    if (removed.length === 0) throw new NotFoundError("env_var_not_found", "no such environment variable");
    return { ok: true, restarted: await this.#changed(access, project) };
  }

  /**
   * The environment a project's own processes get. No permission check: the caller runs them for someone
   * who may. A value that no longer opens (the master key changed) is left out and logged by name.
   */
  async forProject(org: string | OrgRow, projectId: string): Promise<Record<string, string>> {
    const row = typeof org === "string" ? await this.#o.orgRow(org) : org;
    // One statement, not a transaction of three: every agent command waits for this read (schema-qualified,
    // the name checked by `assertSchemaName`; the project id a parameter).
    const rows = await query<{ name: string; project_id: string; value_sealed: string }>(
      this.#o.database.db,
      sql`SELECT name, project_id, value_sealed FROM ${sql.raw(`"${assertSchemaName(row.schemaName)}".project_env_vars`)}
        WHERE project_id = ${projectId}`,
    );
    const env: Record<string, string> = {};
    for (const r of rows) {
      // Stored names passed these checks when set; checked again in case the reserved list grew since.
      if (!ENV_NAME_PATTERN.test(r.name) || reservedEnvName(r.name)) continue;
      const value = this.#open(row, { name: r.name, projectId: r.project_id, valueSealed: r.value_sealed });
      if (value === undefined) {
        this.#o.log?.warn(
          { projectId, name: r.name },
          "an environment variable could not be decrypted (was KILN_SECRET_KEY changed?); left out",
        );
        continue;
      }
      env[r.name] = value;
    }
    return env;
  }

  async #changed(access: OrgAccess, project: Project): Promise<boolean> {
    let restarted = false;
    for (const listener of this.#listeners) restarted = (await listener(access, project)) || restarted;
    return restarted;
  }

  #toEnvVar(org: OrgRow, row: EnvRow, full: boolean): EnvVar {
    return {
      name: row.name,
      secret: row.secret,
      value: full && !row.secret ? (this.#open(org, row) ?? null) : null,
      hint: full && row.secret ? row.hint : null,
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  #open(org: OrgRow, row: Pick<EnvRow, "name" | "projectId" | "valueSealed">): string | undefined {
    try {
      return this.#o.secrets.decrypt(row.valueSealed, sealContext(org, row.projectId, row.name));
    } catch {
      return undefined;
    }
  }
}

function sealContext(org: OrgRow, projectId: string, name: string): string {
  return `org:${org.id}:project:${projectId}:env:${name}`;
}

/** One change of a project's environment at a time, so the count limit holds under concurrent requests. */
async function lockProject(tx: Executor, projectId: string): Promise<void> {
  const locked = await tx
    .select({ id: projects.id })
    .from(projects)
    .where(eq(projects.id, projectId))
    .for("update");
  if (locked.length === 0) throw new NotFoundError("project_not_found", "project not found");
}
