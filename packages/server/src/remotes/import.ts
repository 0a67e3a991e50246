import type { ImportedProject, ImportGitBody } from "@kiln/protocol";
import { detectTemplate } from "../archive/import.ts";
import type { Database } from "../db/client.ts";
import { gitRemotes } from "../db/schema-tenant.ts";
import { ProjectRoot } from "../files/project-root.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { SandboxDriver } from "../sandbox/driver.ts";
import type { GitTransfers } from "./transfer.ts";
import { repositoryName } from "./url.ts";
import { checkoutImported } from "./workspace.ts";

export interface GitImportDeps {
  database: Database;
  projects: ProjectService;
  transfers: GitTransfers;
  timeoutMs: number;
  /** The driver for one project's sandboxes, under its org's limits. */
  sandboxFor(orgId: string, projectId: string): SandboxDriver;
}

/**
 * A new project from a git URL (ADR 0025): the URL checked against the address policy, the branch fetched
 * by git in a sandbox with egress into a bundle (transfer.ts), the template recognised from the branch's
 * root files, then the project made by `createWith` — whose failure removes its row and files — with main
 * checked out from the bundle by git in the new project's own sandbox. The remote is linked on success.
 */
export async function importFromGit(
  d: GitImportDeps,
  access: OrgAccess,
  body: ImportGitBody,
  /** A connected host (ADR 0028) whose token the import used: the link keeps using it. */
  hostId?: string,
): Promise<ImportedProject> {
  requirePermission(access.role, "projects.write");
  const url = await d.transfers.check(body.url);
  const dir = await d.transfers.open();
  try {
    // Before the project exists: a sandbox of the org's imports, on the transfer's own directory.
    const sandbox = { driver: d.transfers.driver, projectId: `git-import-${access.org.id}` };
    const fetched = await d.transfers.fetch(dir, sandbox, url, body.branch, body.auth);
    const detected = detectTemplate(fetched.rootFiles);
    let stats = { files: 0, bytes: 0 };
    const project = await d.projects.createWith(
      access,
      { name: body.name ?? repositoryName(url), template: detected.template },
      async (projectDir, projectId, owner) => {
        const root = await ProjectRoot.open(projectDir, owner);
        const top = await root.openDir([]);
        try {
          // The directory is Kiln's new, empty one: given to the project through its descriptor.
          if (owner && top.handle) await top.handle.chown(owner.uid, owner.gid);
        } finally {
          await top.close();
        }
        stats = await checkoutImported(
          {
            driver: d.sandboxFor(access.org.id, projectId),
            projectId,
            dir: projectDir,
            timeoutMs: d.timeoutMs,
          },
          dir,
          fetched.branch,
        );
      },
      { kind: "git", url, branch: fetched.branch, ...(hostId ? { hostId } : {}) },
    );
    await d.database.tenant(access.org.schemaName, (tx) =>
      tx.insert(gitRemotes).values({
        projectId: project.id,
        url: url.href,
        hostId: hostId ?? null,
        branch: fetched.branch,
        remoteCommit: fetched.commit,
        lastSyncedAt: new Date(),
        createdBy: access.userId,
      }),
    );
    const notes = [`linked to ${url.href} (${fetched.branch}): push and pull in the project's settings`];
    if (detected.note) notes.push(detected.note);
    if (fetched.rootFiles.has(".gitmodules")) notes.push("git submodules are not imported");
    return {
      project,
      report: {
        template: detected.template,
        files: stats.files,
        bytes: stats.bytes,
        history: "restored",
        notes,
      },
    };
  } finally {
    await dir.dispose();
  }
}
