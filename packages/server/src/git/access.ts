import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { orgs } from "../db/schema-shared.ts";
import { NotFoundError } from "../errors/errors.ts";
import type { Principal } from "../http/principal.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgService } from "../orgs/service.ts";
import { looksLikeId } from "../orgs/slug.ts";
import type { ProjectService } from "../projects/service.ts";
import { KILN_AUTHOR } from "../templates/git.ts";
import type { GitRepo } from "./backend.ts";

/**
 * Job tokens for git: a worker clones and pushes its project with the token of the job it runs. The job
 * service implements this (`verifyJobToken`); until one is given, only users' tokens are accepted.
 */
export interface GitTokenVerifier {
  /**
   * The one project the token opens and the one branch it may push (its job's), or null when it is not a
   * valid job token. Never throws for garbage.
   */
  verify(token: string): Promise<{ orgId: string; projectId: string; branch: string } | null>;
}

/** Who is calling over git: a user (their org role decides) or a job token (one project). */
export type GitCaller =
  | { kind: "user"; principal: Principal }
  | { kind: "job"; orgId: string; projectId: string; branch: string };

export type GitPermission = "projects.read" | "projects.write";

export interface GitAccessOptions {
  database: Database;
  orgs: OrgService;
  projects: ProjectService;
  jobTokens?: GitTokenVerifier | undefined;
}

/** Resolves `/git/<org>/<project>.git` for a caller, with the same 404s as the API for what they cannot see. */
export class GitAccess {
  readonly #o: GitAccessOptions;
  #jobTokens: GitTokenVerifier | undefined;

  constructor(options: GitAccessOptions) {
    this.#o = options;
    this.#jobTokens = options.jobTokens;
  }

  get jobTokens(): GitTokenVerifier | undefined {
    return this.#jobTokens;
  }

  /** For a job service built after this one (kiln.ts). */
  useJobTokens(verifier: GitTokenVerifier): void {
    this.#jobTokens = verifier;
  }

  /**
   * The repository, once the caller may use it for `permission` (viewers fetch, developers push). Another
   * org's repository answers exactly like a missing one: 404 org_not_found.
   */
  async repository(
    caller: GitCaller,
    ref: { org: string; project: string },
    permission: GitPermission,
  ): Promise<GitRepo> {
    const projectRef = ref.project.endsWith(".git") ? ref.project.slice(0, -4) : ref.project;
    if (caller.kind === "user") {
      const access = await this.#o.orgs.access(caller.principal.userId, ref.org, caller.principal);
      requirePermission(access.role, permission);
      const project = await this.#o.projects.get(access, projectRef);
      return {
        orgId: access.org.id,
        projectId: project.id,
        protectHead: false,
        pushRef: null,
        ident: { name: caller.principal.name, email: caller.principal.email },
      };
    }
    const [org] = await this.#o.database.db.select().from(orgs).where(eq(orgs.id, caller.orgId)).limit(1);
    const named = org && (looksLikeId(ref.org) ? ref.org.toLowerCase() === org.id : ref.org === org.slug);
    if (!org || !named) throw new NotFoundError("org_not_found", "org not found");
    // A job works on one project with a developer's rights there, and pushes its own branch only: not
    // another task's under review, not a tag; its work reaches the checked-out branch through review and
    // merge, never by a push (GitRepo.protectHead).
    const project = await this.#o.projects.get({ org, role: "developer", userId: "" }, projectRef);
    if (project.id !== caller.projectId) throw new NotFoundError("project_not_found", "project not found");
    return {
      orgId: org.id,
      projectId: project.id,
      protectHead: true,
      pushRef: `refs/heads/${caller.branch}`,
      ident: { name: "Kiln job", email: KILN_AUTHOR.email },
    };
  }
}
