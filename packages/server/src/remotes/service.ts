import {
  BRANCH_PATTERN,
  type FetchRemoteBody,
  type GitAuth,
  type LinkRemoteBody,
  type PullRemoteBody,
  type PullResult,
  type PushRemoteBody,
  type PushResult,
  type RemoteState,
  type RemoteStatus,
} from "@kiln/protocol";
import { eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { gitRemotes } from "../db/schema-tenant.ts";
import { KilnError, NotFoundError } from "../errors/errors.ts";
import type { FileEvents } from "../files/events.ts";
import type { ProjectHistory } from "../history/service.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ProjectStorage } from "../projects/storage.ts";
import type { SandboxDriver } from "../sandbox/driver.ts";
import type { GitTransfers, TransferDir, TransferSandbox } from "./transfer.ts";
import {
  bundleBranch,
  countAheadBehind,
  LOCAL_BRANCH,
  mergeFetched,
  takeFetched,
  type Workspace,
} from "./workspace.ts";

type Row = typeof gitRemotes.$inferSelect;

export interface RemoteDeps {
  database: Database;
  projects: ProjectService;
  storage: ProjectStorage;
  history: ProjectHistory;
  transfers: GitTransfers;
  events?: FileEvents | undefined;
  timeoutMs: number;
  /** The driver for one project's sandboxes, under its org's limits (sandbox budget, disk quota). */
  sandboxFor(orgId: string, projectId: string): SandboxDriver;
  /** The org's connected git hosts' credentials (ADR 0028), opened for one transfer. */
  hosts?: HostCredentials | undefined;
}

/** A connected host's git credentials and the one origin they may be sent to (git-hosts/ provides it). */
export interface HostCredentials {
  credentials(org: OrgAccess["org"], hostId: string): Promise<{ auth: GitAuth; gitOrigin: string }>;
}

interface Target {
  access: OrgAccess;
  projectId: string;
  workspace: Workspace;
  sandbox: TransferSandbox;
}

/**
 * A project's linked remote (ADR 0025): one https URL and branch per project, synced with main. Push never
 * forces; pull merges in the project's sandbox and on a conflict changes no file unless asked to commit the
 * merge with conflict markers. Network transfers and the project's own git are separate sandbox runs that
 * exchange bundles (transfer.ts, workspace.ts); the project's git runs in its history's turn (one at a time).
 */
export class GitRemotes {
  readonly #d: RemoteDeps;

  constructor(deps: RemoteDeps) {
    this.#d = deps;
  }

  async get(access: OrgAccess, ref: string): Promise<RemoteState> {
    requirePermission(access.role, "projects.read");
    const t = await this.#target(access, ref);
    const row = await this.#row(access, t.projectId);
    if (!row) return { remote: null };
    // The link is shown even when the counts cannot be made (no repository any more, a busy sandbox).
    const c = await this.#count(t, row.remoteCommit).catch(() => undefined);
    return { remote: toStatus(row, c) };
  }

  /** Links the project to `url` (fetched once: a bad URL is refused now, not at the first push). */
  async link(access: OrgAccess, ref: string, body: LinkRemoteBody): Promise<RemoteStatus> {
    requirePermission(access.role, "projects.write");
    const t = await this.#target(access, ref);
    const url = await this.#d.transfers.check(body.url);
    // A named host is checked (the org's, the URL on its origin) even when a token comes with the request.
    const hostAuth = await this.#hostAuth(access, body.host ?? null, url);
    const auth = body.auth ?? hostAuth;
    return this.#withDir(async (dir) => {
      let fetched: { branch: string; commit: string | null } | undefined;
      try {
        fetched = await this.#d.transfers.fetch(dir, t.sandbox, url, body.branch, auth);
      } catch (err) {
        // An empty repository, or a branch it does not have yet: the first push makes it.
        if (!(err instanceof KilnError) || err.code !== "remote_branch_not_found") throw err;
        fetched = { branch: body.branch ?? LOCAL_BRANCH, commit: null };
      }
      const branch = fetched.branch;
      const c = fetched.commit
        ? await this.#d.history.exclusive(this.#key(t), () => takeFetched(t.workspace, dir, branch))
        : undefined;
      const values = {
        url: url.href,
        hostId: body.host ?? null,
        branch,
        remoteCommit: fetched.commit,
        lastPushedCommit: null,
        lastSyncedAt: new Date(),
        conflict: null,
        updatedAt: new Date(),
      };
      const row = await this.#d.database.tenant(access.org.schemaName, async (tx) => {
        const [saved] = await tx
          .insert(gitRemotes)
          .values({ projectId: t.projectId, createdBy: access.userId, ...values })
          .onConflictDoUpdate({ target: gitRemotes.projectId, set: values })
          .returning();
        return saved!;
      });
      return toStatus(row, c);
    });
  }

  async unlink(access: OrgAccess, ref: string): Promise<void> {
    requirePermission(access.role, "projects.write");
    const t = await this.#target(access, ref);
    const gone = await this.#d.database.tenant(access.org.schemaName, (tx) =>
      tx.delete(gitRemotes).where(eq(gitRemotes.projectId, t.projectId)).returning(),
    );
    if (gone.length === 0) throw notLinked();
  }

  async fetch(access: OrgAccess, ref: string, body: FetchRemoteBody): Promise<RemoteStatus> {
    requirePermission(access.role, "projects.write");
    const { t, row, url } = await this.#linked(access, ref);
    const auth = body.auth ?? (await this.#hostAuth(access, row.hostId, url));
    return this.#withDir(async (dir) => {
      const fetched = await this.#d.transfers.fetch(dir, t.sandbox, url, row.branch, auth);
      const c = await this.#d.history.exclusive(this.#key(t), () =>
        takeFetched(t.workspace, dir, row.branch),
      );
      const saved = await this.#update(access, t.projectId, {
        remoteCommit: fetched.commit,
        lastSyncedAt: new Date(),
      });
      return toStatus(saved, c);
    });
  }

  async push(access: OrgAccess, ref: string, body: PushRemoteBody): Promise<PushResult> {
    requirePermission(access.role, "projects.write");
    const branch = body.branch ?? LOCAL_BRANCH;
    if (!BRANCH_PATTERN.test(branch)) throw new KilnError("branch_not_found", "not a branch name");
    const { t, row, url } = await this.#linked(access, ref);
    const remoteBranch = branch === LOCAL_BRANCH ? row.branch : branch;
    const auth = body.auth ?? (await this.#hostAuth(access, row.hostId, url));
    return this.#withDir(async (dir) => {
      const { tip } = await this.#d.history.exclusive(this.#key(t), () =>
        bundleBranch(t.workspace, dir, branch, this.#d.transfers.maxBytes),
      );
      const outcome = await this.#d.transfers.push(dir, t.sandbox, url, remoteBranch, auth);
      const onMain = branch === LOCAL_BRANCH;
      const saved = await this.#update(
        access,
        t.projectId,
        onMain ? { remoteCommit: tip, lastPushedCommit: tip, lastSyncedAt: new Date() } : {},
      );
      const c = await this.#count(t, saved.remoteCommit);
      return { branch, remoteBranch, commit: tip, outcome, remote: toStatus(saved, c) };
    });
  }

  async pull(access: OrgAccess, ref: string, body: PullRemoteBody): Promise<PullResult> {
    requirePermission(access.role, "projects.write");
    const { t, row, url } = await this.#linked(access, ref);
    const onConflict = body.onConflict ?? "stop";
    const auth = body.auth ?? (await this.#hostAuth(access, row.hostId, url));
    return this.#withDir(async (dir) => {
      const fetched = await this.#d.transfers.fetch(dir, t.sandbox, url, row.branch, auth);
      const merged = await this.#d.history.exclusive(this.#key(t), () =>
        mergeFetched(t.workspace, dir, row.branch, onConflict),
      );
      const conflict =
        merged.outcome === "conflict"
          ? { remoteCommit: fetched.commit, paths: merged.conflicts, at: new Date().toISOString() }
          : null;
      const saved = await this.#update(access, t.projectId, {
        remoteCommit: fetched.commit,
        lastSyncedAt: new Date(),
        conflict,
      });
      this.#announce(access, t.projectId, merged.changes);
      const c = await this.#count(t, saved.remoteCommit);
      return {
        outcome: merged.outcome,
        commit: merged.commit,
        savedChanges: merged.savedChanges,
        conflicts: merged.conflicts,
        changedPaths: merged.changes.map((change) => change.path),
        remote: toStatus(saved, c),
      };
    });
  }

  /** The project's link as stored (URL, branch, connected host), or `remote_not_linked`. */
  async linkOf(
    access: OrgAccess,
    ref: string,
  ): Promise<{ url: string; branch: string; hostId: string | null }> {
    requirePermission(access.role, "projects.read");
    const t = await this.#target(access, ref);
    const row = await this.#row(access, t.projectId);
    if (!row) throw notLinked();
    return { url: row.url, branch: row.branch, hostId: row.hostId };
  }

  /**
   * A connected host's credentials for a transfer to `url`: only when the URL is on the host's git origin
   * (the token goes nowhere else); none without a host.
   */
  async #hostAuth(access: OrgAccess, hostId: string | null, url: URL): Promise<GitAuth | undefined> {
    if (!hostId) return undefined;
    if (!this.#d.hosts) throw new KilnError("unavailable", "connected git hosts are not available here");
    const { auth, gitOrigin } = await this.#d.hosts.credentials(access.org, hostId);
    if (url.origin !== gitOrigin)
      throw new KilnError(
        "git_url_not_on_host",
        `the URL is not on ${gitOrigin}: the connection's token is only sent there`,
      );
    return auth;
  }

  #announce(access: OrgAccess, projectId: string, changes: Array<{ status: string; path: string }>): void {
    const written = changes.filter((c) => c.status !== "D").map((c) => c.path);
    const deleted = changes.filter((c) => c.status === "D").map((c) => c.path);
    const orgId = access.org.id;
    if (written.length) this.#d.events?.emit({ orgId, projectId, kind: "written", paths: written });
    if (deleted.length) this.#d.events?.emit({ orgId, projectId, kind: "deleted", paths: deleted });
  }

  #count(t: Target, remoteCommit: string | null) {
    return this.#d.history.exclusive(this.#key(t), () => countAheadBehind(t.workspace, remoteCommit));
  }

  async #withDir<T>(work: (dir: TransferDir) => Promise<T>): Promise<T> {
    const dir = await this.#d.transfers.open();
    try {
      return await work(dir);
    } finally {
      await dir.dispose();
    }
  }

  async #target(access: OrgAccess, ref: string): Promise<Target> {
    const project = await this.#d.projects.get(access, ref);
    const dir = this.#d.storage.projectDir(access.org.id, project.id);
    const driver = this.#d.sandboxFor(access.org.id, project.id);
    return {
      access,
      projectId: project.id,
      workspace: { driver, projectId: project.id, dir, timeoutMs: this.#d.timeoutMs },
      sandbox: { driver, projectId: project.id },
    };
  }

  #key(t: Target) {
    return { orgId: t.access.org.id, projectId: t.projectId };
  }

  async #row(access: OrgAccess, projectId: string): Promise<Row | undefined> {
    const rows = await this.#d.database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(gitRemotes).where(eq(gitRemotes.projectId, projectId)),
    );
    return rows[0];
  }

  async #linked(access: OrgAccess, ref: string) {
    const t = await this.#target(access, ref);
    const row = await this.#row(access, t.projectId);
    if (!row) throw notLinked();
    // Checked again each time: the operator's exemptions or the name's addresses may have changed.
    const url = await this.#d.transfers.check(row.url);
    return { t, row, url };
  }

  async #update(access: OrgAccess, projectId: string, set: Partial<Row>): Promise<Row> {
    const rows = await this.#d.database.tenant(access.org.schemaName, (tx) =>
      tx
        .update(gitRemotes)
        .set({ ...set, updatedAt: new Date() })
        .where(eq(gitRemotes.projectId, projectId))
        .returning(),
    );
    // Unlinked while the transfer ran.
    if (!rows[0]) throw notLinked();
    return rows[0];
  }
}

function notLinked(): NotFoundError {
  return new NotFoundError("remote_not_linked", "this project is not linked to a remote repository");
}

function toStatus(row: Row, c: { ahead: number; behind: number } | undefined): RemoteStatus {
  return {
    url: row.url,
    host: row.hostId,
    branch: row.branch,
    remoteCommit: row.remoteCommit,
    lastPushedCommit: row.lastPushedCommit,
    lastSyncedAt: row.lastSyncedAt?.toISOString() ?? null,
    ahead: c?.ahead ?? null,
    behind: c?.behind ?? null,
    conflict: (row.conflict as RemoteStatus["conflict"]) ?? null,
  };
}
