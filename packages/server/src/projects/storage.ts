import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { looksLikeId } from "../orgs/slug.ts";

/**
 * Where project files live: `<dataDir>/orgs/<orgId>/projects/<projectId>/`. Paths use ids, never slugs,
 * so renaming an org or project moves nothing on disk.
 */
export class ProjectStorage {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, "orgs");
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

  async removeProject(orgId: string, projectId: string): Promise<void> {
    await rm(this.projectDir(orgId, projectId), { recursive: true, force: true });
  }

  async removeOrg(orgId: string): Promise<void> {
    await rm(this.orgDir(orgId), { recursive: true, force: true });
  }
}

function checkId(id: string): string {
  // Ids come from our database, but a path is a security boundary: check anyway.
  if (!looksLikeId(id) || id !== id.toLowerCase()) throw new Error(`not an id: ${JSON.stringify(id)}`);
  return id;
}
