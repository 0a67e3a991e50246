import { describe, expect, it } from "vitest";
import { ROLES } from "./orgs.ts";
import { atLeast, can, PERMISSIONS, type Permission } from "./permissions.ts";

describe("the role → permission table", () => {
  it("is pinned: changing who may do what is a deliberate edit of this test too", () => {
    expect(PERMISSIONS).toEqual({
      "org.read": "viewer",
      "org.update": "admin",
      "org.delete": "owner",
      "members.read": "viewer",
      "members.manage": "admin",
      "invitations.manage": "admin",
      "projects.read": "viewer",
      "projects.write": "developer",
      "projects.delete": "admin",
      "projects.publish": "admin",
      "deployTargets.read": "viewer",
      "deployTargets.manage": "admin",
      "gitHosts.read": "viewer",
      "gitHosts.manage": "admin",
      "llm.read": "viewer",
      "llm.use": "developer",
      "llm.manage": "admin",
      "agents.read": "viewer",
      "agents.manage": "admin",
      "chats.read": "viewer",
      "chats.write": "developer",
      "tasks.read": "viewer",
      "tasks.comment": "reviewer",
      "tasks.write": "developer",
      "tasks.moderate": "admin",
      "workflows.manage": "admin",
      "automation.manage": "admin",
      "jobs.read": "viewer",
      "jobs.write": "developer",
      "workers.manage": "admin",
      "webhooks.manage": "admin",
      "audit.read": "admin",
    });
  });

  it("ranks roles owner > admin > developer > reviewer > viewer", () => {
    for (const [i, higher] of ROLES.entries()) {
      for (const [j, lower] of ROLES.entries())
        expect(atLeast(higher, lower), `${higher} ≥ ${lower}`).toBe(i <= j);
    }
  });

  it("lets a role do exactly what needs its rank or less", () => {
    expect(can("viewer", "projects.read")).toBe(true);
    expect(can("viewer", "projects.write")).toBe(false);
    expect(can("reviewer", "tasks.comment")).toBe(true);
    expect(can("reviewer", "tasks.write")).toBe(false);
    expect(can("developer", "chats.write")).toBe(true);
    expect(can("developer", "llm.manage")).toBe(false);
    expect(can("admin", "workers.manage")).toBe(true);
    expect(can("viewer", "agents.read")).toBe(true);
    expect(can("developer", "agents.manage")).toBe(false);
    expect(can("admin", "agents.manage")).toBe(true);
    expect(can("admin", "org.delete")).toBe(false);
    for (const permission of Object.keys(PERMISSIONS) as Permission[])
      expect(can("owner", permission)).toBe(true);
  });
});
