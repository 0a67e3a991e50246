import { existsSync, readdirSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
}, 120_000);
afterAll(() => kiln?.stop());

/** The cgroups (pids controller) the host holds for a project: its idle ones and its standby's. */
const groupsOf = (projectId: string) => {
  const dir = "/sys/fs/cgroup/pids/kiln";
  return existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith(`${projectId}-`)) : [];
};

async function until(what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it("frees what the sandbox keeps between a project's commands when its whole org is deleted", async () => {
  // Only the bubblewrap driver keeps anything between commands (and the test suite always has it).
  expect(kiln.driver.name).toBe("local");
  const { client } = await kiln.signup();
  const slug = uniqueSlug("gone");
  const org = (await client.post("/api/orgs", { name: "Gone", slug })).json();
  const projects = [];
  for (const name of ["One", "Two"]) {
    const p = (await client.post(`/api/orgs/${slug}/projects`, { name, template: "static" })).json();
    const workspaceDir = kiln.storage.projectDir(org.id, p.id);
    const ran = await kiln.driver.exec({ projectId: p.id, workspaceDir }, { argv: ["true"] });
    expect(ran.exitCode).toBe(0);
    projects.push(p.id as string);
  }
  // Each project now has a cgroup waiting in the pool and a standby chain in another.
  for (const id of projects) await until(`kept resources of ${id}`, () => groupsOf(id).length > 0);

  expect((await client.delete(`/api/orgs/${org.id}`)).statusCode).toBe(200);

  for (const id of projects) {
    await until(`no cgroup left for ${id}`, () => groupsOf(id).length === 0);
    expect((kiln.driver as unknown as { idleCgroups(id: string): string[] }).idleCgroups(id)).toEqual([]);
  }
});
