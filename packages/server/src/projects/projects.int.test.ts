import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(() => kiln?.stop());

describe("projects", () => {
  it("creates, lists, gets, updates and deletes a project with files on disk", async () => {
    const { client } = await kiln.signup();
    const slug = uniqueSlug("org");
    expect((await client.post("/api/orgs", { name: "Team", slug })).statusCode).toBe(201);

    const created = await client.post(`/api/orgs/${slug}/projects`, {
      name: "Habit Tracker",
      description: "streaks",
    });
    expect(created.statusCode).toBe(201);
    const project = created.json();
    expect(project).toMatchObject({ slug: "habit-tracker", name: "Habit Tracker", description: "streaks" });
    const dir = kiln.storage.projectDir(project.orgId, project.id);
    expect(existsSync(dir)).toBe(true);

    // Same name again: the derived slug gets a suffix rather than failing.
    const second = (await client.post(`/api/orgs/${slug}/projects`, { name: "Habit Tracker" })).json();
    expect(second.slug).toMatch(/^habit-tracker-[0-9a-f]{6}$/);
    // An explicit slug that is taken is refused.
    const taken = await client.post(`/api/orgs/${slug}/projects`, { name: "X", slug: "habit-tracker" });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe("slug_taken");

    const list = (await client.get(`/api/orgs/${slug}/projects`)).json();
    expect(list.map((p: { slug: string }) => p.slug).sort()).toEqual([second.slug, "habit-tracker"].sort());

    expect((await client.get(`/api/orgs/${slug}/projects/habit-tracker`)).json().id).toBe(project.id);
    expect((await client.get(`/api/orgs/${slug}/projects/${project.id}`)).json().slug).toBe("habit-tracker");

    const renamed = await client.patch(`/api/orgs/${slug}/projects/${project.id}`, {
      name: "Habits",
      slug: "habits",
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: "Habits", slug: "habits", description: "streaks" });
    const clash = await client.patch(`/api/orgs/${slug}/projects/habits`, { slug: second.slug });
    expect(clash.json().error.code).toBe("slug_taken");

    expect((await client.delete(`/api/orgs/${slug}/projects/habits`)).statusCode).toBe(200);
    expect(existsSync(dir)).toBe(false);
    const gone = await client.get(`/api/orgs/${slug}/projects/habits`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe("project_not_found");
  });
});
