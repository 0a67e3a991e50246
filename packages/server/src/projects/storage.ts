import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { looksLikeId } from "../orgs/slug.ts";
import { removeProjectTree, removeProjectTrees } from "../sandbox/as-owner.ts";
import type { Owner } from "../sandbox/workspace-owner.ts";

/**
 * Where project files live: `<dataDir>/orgs/<orgId>/projects/<projectId>/`. Paths use ids, never slugs,
 * so renaming an org or project moves nothing on disk.
 */
export class ProjectStorage {
  readonly root: string;
  readonly #ownerOf: (projectId: string) => Owner | undefined;
  readonly #onRemoved: (projectId: string) => void;

  constructor(
    dataDir: string,
    options: {
      /** The sandbox user of a project (the driver's `workspaceOwner`): its tree is removed as that user. */
      ownerOf?: (projectId: string) => Owner | undefined;
      /** After a project's tree is gone: the sandbox driver frees what it kept for it (idle cgroups…). */
      onRemoved?: (projectId: string) => void;
    } = {},
  ) {
    this.root = path.join(dataDir, "orgs");
    this.#ownerOf = options.ownerOf ?? (() => undefined);
    this.#onRemoved = options.onRemoved ?? (() => {});
  }

  orgDir(orgId: string): string {
    return path.join(this.root, checkId(orgId));
  }

  projectDir(orgId: string, projectId: string): string {
    return path.join(this.orgDir(orgId), "projects", checkId(projectId));
  }

  async createProject(orgId: string, projectId: string): Promise<string> {
    const dir = this.projectDir(orgId, projectId);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    return dir;
  }

  /** Never walked by root: a project's tree is the tenant's, and a symlink may appear in it at any time. */
  async removeProject(orgId: string, projectId: string): Promise<void> {
    await removeProjectTree(this.projectDir(orgId, projectId), this.#ownerOf(checkId(projectId)));
    this.#onRemoved(projectId);
  }

  async removeOrg(orgId: string): Promise<void> {
    const removed: string[] = [];
    await removeProjectTrees(path.join(this.orgDir(orgId), "projects"), (name) => {
      if (!looksLikeId(name)) return undefined;
      removed.push(name);
      return this.#ownerOf(name);
    });
    // What is left is Kiln's own (the org and projects directories).
    await rm(this.orgDir(orgId), { recursive: true, force: true });
    // Each project's resources kept between commands (cgroups, a standby chain, a warm network) go too.
    for (const projectId of removed) this.#onRemoved(projectId);
  }
}

function checkId(id: string): string {
  // Ids come from our database, but a path is a security boundary: check anyway.
  if (!looksLikeId(id) || id !== id.toLowerCase()) throw new Error(`not an id: ${JSON.stringify(id)}`);
  return id;
}
