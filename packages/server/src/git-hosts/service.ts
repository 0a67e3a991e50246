import { randomUUID } from "node:crypto";
import type { CreateGitHostBody, GitAuth, GitHost, GitHostKind, GitHostRepository } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { gitHosts } from "../db/schema-tenant.ts";
import { ConflictError, KilnError, NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../orgs/service.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import type { HostApi, HostApiOptions } from "./api.ts";
import { giteaApi } from "./gitea.ts";
import { githubApi } from "./github.ts";
import { gitlabApi } from "./gitlab.ts";

type Row = typeof gitHosts.$inferSelect;

export interface GitHostOptions {
  database: Database;
  secrets: SecretBox;
  /** The egress-checked fetch every host API call goes through (the one address policy). */
  fetch: typeof fetch;
}

const DEFAULT_API: Partial<Record<GitHostKind, string>> = {
  github: "https://api.github.com",
  gitlab: "https://gitlab.com/api/v4",
};

/** A connection opened for one action: its API client and git credentials (never leave the server). */
export interface OpenHost {
  row: Row;
  api: HostApi;
  auth: GitAuth;
  /** The https origin git talks to for this host. */
  gitOrigin: string;
}

/**
 * An org's connected git hosts (ADR 0028). Tokens are sealed with the SecretBox bound to
 * `org:<id>:git-host:<row id>` and are opened only by `open` for one action (an API call, a transfer's
 * Authorization header); no answer carries one.
 */
export class GitHostService {
  readonly #o: GitHostOptions;

  constructor(options: GitHostOptions) {
    this.#o = options;
  }

  async list(access: OrgAccess): Promise<GitHost[]> {
    requirePermission(access.role, "gitHosts.read");
    const rows = await this.#o.database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(gitHosts).orderBy(gitHosts.name),
    );
    return rows.map(toHost);
  }

  /** Connects a host: the token is tried on the host's current-user endpoint before anything is saved. */
  async create(access: OrgAccess, input: CreateGitHostBody): Promise<GitHost> {
    requirePermission(access.role, "gitHosts.manage");
    const apiUrl = (input.apiUrl ?? DEFAULT_API[input.kind] ?? "").replace(/\/+$/, "");
    const gitUrl = new URL(input.gitUrl ?? gitOriginOf(input.kind, apiUrl)).origin;
    const { login } = await this.#api(input.kind, apiUrl, input.token).currentUser();
    const id = randomUUID();
    const row = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const [inserted] = await tx
        .insert(gitHosts)
        .values({
          id,
          kind: input.kind,
          name: input.name,
          apiUrl,
          gitUrl,
          login: login.slice(0, 200),
          tokenSealed: this.#o.secrets.encrypt(input.token, tokenContext(access.org, id)),
          tokenHint: `…${input.token.slice(-4)}`,
          createdBy: access.userId,
        })
        .onConflictDoNothing()
        .returning();
      if (inserted) await auditHost(tx, access, "git_host.connected", inserted);
      return inserted;
    });
    if (!row)
      throw new ConflictError("git_host_name_taken", `a git host named "${input.name}" already exists`);
    return toHost(row);
  }

  async remove(access: OrgAccess, id: string): Promise<void> {
    requirePermission(access.role, "gitHosts.manage");
    await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const row = await findHost(tx, id);
      await tx.delete(gitHosts).where(eq(gitHosts.id, row.id));
      await auditHost(tx, access, "git_host.removed", row);
    });
  }

  async repositories(access: OrgAccess, id: string): Promise<GitHostRepository[]> {
    requirePermission(access.role, "projects.write");
    return (await this.open(access.org, id)).api.repositories();
  }

  /** A connection of the org with its token opened for one action; 404 when it is not the org's. */
  async open(org: OrgRow, id: string): Promise<OpenHost> {
    const row = await this.#o.database.tenant(org.schemaName, (tx) => findHost(tx, id));
    const kind = row.kind as GitHostKind;
    let token: string;
    try {
      token = this.#o.secrets.decrypt(row.tokenSealed, tokenContext(org, row.id));
    } catch {
      throw new KilnError(
        "git_host_error",
        "the saved token cannot be opened (was the server's secret key changed?): connect the host again",
      );
    }
    return {
      row,
      api: this.#api(kind, row.apiUrl, token),
      auth: { username: gitUser(kind, row.login), token },
      gitOrigin: row.gitUrl,
    };
  }

  #api(kind: GitHostKind, apiUrl: string, token: string): HostApi {
    const o: HostApiOptions = { kind, apiUrl, token, fetch: this.#o.fetch };
    if (kind === "github") return githubApi(o);
    if (kind === "gitlab") return gitlabApi(o);
    return giteaApi(o);
  }
}

/** The user name git sends with the token (HTTP Basic) as each host documents it. */
function gitUser(kind: GitHostKind, login: string): string {
  if (kind === "github") return "x-access-token";
  if (kind === "gitlab") return "oauth2";
  return /^[^:\s]+$/.test(login) ? login : "kiln";
}

/** The clone origin a host's API root implies: api.github.com → github.com; …/api/v4 and …/api/v1 cut. */
function gitOriginOf(kind: GitHostKind, apiUrl: string): string {
  const url = new URL(apiUrl);
  if (kind === "github" && url.hostname === "api.github.com") return "https://github.com";
  return url.origin;
}

/** The `owner/name` of a clone URL on the host's git origin, or a typed refusal. */
export function repositoryOf(host: OpenHost, url: URL): string {
  if (url.origin !== host.gitOrigin)
    throw new KilnError(
      "git_url_not_on_host",
      `the URL is not on ${host.gitOrigin}: the connection's token is only sent there`,
    );
  const m = /^\/(.+?)(?:\.git)?\/?$/.exec(url.pathname);
  if (!m) throw new KilnError("git_url_not_on_host", "the URL names no repository of the host");
  return decodeURIComponent(m[1]!);
}

function tokenContext(org: OrgRow, id: string): string {
  return `org:${org.id}:git-host:${id}`;
}

/** What a record says of a host: its kind, URLs and account; never its token. */
async function auditHost(
  tx: Executor,
  access: OrgAccess,
  action: "git_host.connected" | "git_host.removed",
  row: Row,
): Promise<void> {
  await recordAudit(tx, {
    orgId: access.org.id,
    action,
    actor: userActor(access),
    target: { type: "git_host", id: row.id, label: row.name },
    data: { kind: row.kind, name: row.name, baseUrl: row.apiUrl, gitUrl: row.gitUrl, accountName: row.login },
  });
}

async function findHost(tx: Executor, id: string): Promise<Row> {
  const [row] = await tx.select().from(gitHosts).where(eq(gitHosts.id, id)).limit(1);
  if (!row) throw new NotFoundError("git_host_not_found", "no such git host in this org");
  return row;
}

function toHost(row: Row): GitHost {
  return {
    id: row.id,
    kind: row.kind as GitHostKind,
    name: row.name,
    apiUrl: row.apiUrl,
    gitUrl: row.gitUrl,
    login: row.login,
    tokenHint: row.tokenHint,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
