import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/** /api/orgs/:org/budgets: what admins may set, and every malformed, oversized or foreign request. */

let kiln: TestKiln;
let owner: SignedUp;
let stranger: SignedUp;
let org: string;
let api: string;
let project: { id: string; slug: string };
let foreignProject: { id: string };
let foreignTask: { id: string };

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  stranger = await kiln.signup();
  org = uniqueSlug("rt");
  expect((await owner.client.post("/api/orgs", { name: "Routes", slug: org })).statusCode).toBe(201);
  api = `/api/orgs/${org}/budgets`;
  project = (await owner.client.post(`/api/orgs/${org}/projects`, { name: "Mine" })).json();
  const theirs = stranger.personalOrg.slug;
  const p = (await stranger.client.post(`/api/orgs/${theirs}/projects`, { name: "Theirs" })).json();
  foreignProject = p;
  foreignTask = (
    await stranger.client.post(`/api/orgs/${theirs}/projects/${p.slug}/tasks`, { title: "T" })
  ).json();
}, 120_000);
afterAll(() => kiln?.stop());

const code = (res: { statusCode: number; json(): { error?: { code?: string } } }) => [
  res.statusCode,
  res.json().error?.code,
];

describe("budget routes", () => {
  it("creates, lists, raises and deletes a budget", async () => {
    const created = await owner.client.post(api, {
      scope: "project",
      scopeId: project.id,
      period: "monthly",
      unit: "usd",
      limit: 20,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      scope: "project",
      scopeId: project.id,
      limit: 20,
      softFraction: 0.8,
      createdBy: owner.user.id,
      spent: 0,
      reserved: 0,
    });
    const id = created.json().id;
    expect((await owner.client.get(api)).json().map((b: { id: string }) => b.id)).toContain(id);
    const raised = await owner.client.patch(`${api}/${id}`, { limit: 50, softFraction: 0.9 });
    expect(raised.json()).toMatchObject({ limit: 50, softFraction: 0.9 });
    // One budget per scope and period: raise it instead of adding another.
    expect(
      code(
        await owner.client.post(api, {
          scope: "project",
          scopeId: project.id,
          period: "monthly",
          unit: "tokens",
          limit: 5,
        }),
      ),
    ).toEqual([409, "budget_exists"]);
    expect((await owner.client.delete(`${api}/${id}`)).statusCode).toBe(200);
    expect(code(await owner.client.delete(`${api}/${id}`))).toEqual([404, "budget_not_found"]);
    expect(code(await owner.client.patch(`${api}/${randomUUID()}`, { limit: 1 }))).toEqual([
      404,
      "budget_not_found",
    ]);
  });

  it("refuses garbage, oversized and out-of-range bodies and ids with 400", async () => {
    const bodies: unknown[] = [
      {},
      { scope: "org", period: "monthly", unit: "usd", limit: 0 },
      { scope: "org", period: "monthly", unit: "usd", limit: -5 },
      { scope: "org", period: "monthly", unit: "usd", limit: 1e13 },
      { scope: "org", period: "monthly", unit: "usd", limit: "10" },
      { scope: "org", period: "monthly", unit: "usd", limit: 10, softFraction: 1.5 },
      { scope: "org", period: "monthly", unit: "usd", limit: 10, softFraction: 0 },
      { scope: "org", period: "weekly", unit: "usd", limit: 10 },
      { scope: "org", period: "monthly", unit: "eur", limit: 10 },
      { scope: "galaxy", period: "monthly", unit: "usd", limit: 10 },
      { scope: "org", period: "monthly", unit: "usd", limit: 10, extra: true },
      { scope: "org", scopeId: project.id, period: "monthly", unit: "usd", limit: 10 },
      { scope: "project", period: "monthly", unit: "usd", limit: 10 },
      { scope: "project", scopeId: "../../etc/passwd", period: "monthly", unit: "usd", limit: 10 },
      { scope: "project", scopeId: "x".repeat(100_000), period: "monthly", unit: "usd", limit: 10 },
    ];
    for (const body of bodies) {
      const res = await owner.client.post(api, body);
      expect([JSON.stringify(body).slice(0, 80), ...code(res)]).toEqual([
        JSON.stringify(body).slice(0, 80),
        400,
        "validation_failed",
      ]);
    }
    // An over-long path parameter is refused while routing (414), before any handler.
    const ids: Array<[string, number]> = [
      ["not-a-uuid", 400],
      ["..%2F..%2Fetc", 400],
      ["%00", 400],
      ["1".repeat(500), 414],
    ];
    for (const [id, status] of ids) {
      const res = await owner.client.patch(`${api}/${id}`, { limit: 1 });
      expect([id, res.statusCode]).toEqual([id, status]);
    }
    expect(code(await owner.client.patch(`${api}/${randomUUID()}`, { limit: 0 }))).toEqual([
      400,
      "validation_failed",
    ]);
    expect((await owner.client.get(api)).json()).toEqual([]);
  });

  it("answers 404 for a project, member or task that is not the org's", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ scope: "project", scopeId: foreignProject.id }, "project_not_found"],
      [{ scope: "project", scopeId: randomUUID() }, "project_not_found"],
      [{ scope: "user", scopeId: stranger.user.id }, "member_not_found"],
      [{ scope: "task", scopeId: foreignTask.id }, "task_not_found"],
      [{ scope: "task", scopeId: randomUUID() }, "task_not_found"],
    ];
    for (const [scope, expected] of cases) {
      const res = await owner.client.post(api, { ...scope, period: "monthly", unit: "usd", limit: 10 });
      expect([scope.scope, ...code(res)]).toEqual([scope.scope, 404, expected]);
    }
    // A member is fine: the owner's own user budget.
    const mine = await owner.client.post(api, {
      scope: "user",
      scopeId: owner.user.id,
      period: "run",
      unit: "tokens",
      limit: 1000,
    });
    expect(mine.statusCode).toBe(201);
    // The stranger sees none of it.
    expect(code(await stranger.client.get(api))).toEqual([404, "org_not_found"]);
    expect(code(await stranger.client.patch(`${api}/${mine.json().id}`, { limit: 1 }))).toEqual([
      404,
      "org_not_found",
    ]);
  });
});
