import { describe, expect, it } from "vitest";
import type { OrgService } from "../orgs/service.ts";
import { type ForgetsDeleted, forgetDeleted } from "./forget.ts";
import type { ProjectService } from "./service.ts";

/** The two services' listener lists, as forgetDeleted sees them. */
function owners() {
  const project: Array<(orgId: string, projectId: string) => Promise<void>> = [];
  const org: Array<(orgId: string) => Promise<void>> = [];
  return {
    orgs: { onDelete: (l: (typeof org)[number]) => org.push(l) } as unknown as OrgService,
    projects: { onDelete: (l: (typeof project)[number]) => project.push(l) } as unknown as ProjectService,
    deleteProject: (orgId: string, projectId: string) => Promise.all(project.map((l) => l(orgId, projectId))),
    deleteOrg: (orgId: string) => Promise.all(org.map((l) => l(orgId))),
  };
}

describe("forgetDeleted", () => {
  it("tells every participant in order, and only what each keeps", async () => {
    const seen: string[] = [];
    const o = owners();
    const participants: ForgetsDeleted[] = [
      {
        forgetProject: (org, p) => void seen.push(`a:${org}/${p}`),
        forgetOrg: (org) => void seen.push(`a:${org}`),
      },
      { forgetOrg: async (org) => void seen.push(`b:${org}`) },
      { forgetProject: async (org, p) => void seen.push(`c:${org}/${p}`) },
    ];
    forgetDeleted(o, participants);
    await o.deleteProject("o1", "p1");
    await o.deleteOrg("o2");
    expect(seen).toEqual(["a:o1/p1", "c:o1/p1", "a:o2", "b:o2"]);
  });

  it("lets the others clean up when one fails, then reports the failure", async () => {
    const seen: string[] = [];
    const o = owners();
    forgetDeleted(o, [
      { forgetProject: () => Promise.reject(new Error("sandbox gone")) },
      { forgetProject: (_org, p) => void seen.push(p) },
    ]);
    await expect(o.deleteProject("o", "p")).rejects.toThrow("sandbox gone");
    expect(seen).toEqual(["p"]);
  });
});
