import type { AuditEvent, Role } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { recordAudit } from "./record.ts";

/**
 * The audit log itself (ADR 0033): who may read it, its filters and pages, its exports, that nothing edits
 * it, that it is written with the change or not at all, and retention. The actions' own records are tested
 * next to the code that records them.
 */

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(() => kiln?.stop());

async function team(...roles: Role[]) {
  const owner = await kiln.signup();
  const slug = uniqueSlug("audit");
  const created = await owner.client.post("/api/orgs", { name: "Audited", slug });
  expect(created.statusCode).toBe(201);
  const orgId: string = created.json().id;
  const members: SignedUp[] = [];
  for (const role of roles) {
    const member = await kiln.signup();
    const invited = await owner.client.post(`/api/orgs/${slug}/invitations`, {
      email: member.user.email,
      role,
    });
    const token = new URL(invited.json().url).pathname.split("/").at(-1);
    expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
    members.push(member);
  }
  return { owner, slug, orgId, members, base: `/api/orgs/${slug}/audit/events` };
}

async function events(client: SignedUp["client"], url: string): Promise<AuditEvent[]> {
  const res = await client.get(url);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().events;
}

describe("the audit log", () => {
  it("records a role change and a removal with who did it, in their own org only", async () => {
    const t = await team("developer", "viewer");
    const [dev, viewer] = t.members as [SignedUp, SignedUp];
    const other = await team();
    expect(
      (await t.owner.client.patch(`/api/orgs/${t.slug}/members/${dev.user.id}`, { role: "admin" }))
        .statusCode,
    ).toBe(200);
    expect((await t.owner.client.delete(`/api/orgs/${t.slug}/members/${viewer.user.id}`)).statusCode).toBe(
      200,
    );

    const changed = await events(t.owner.client, `${t.base}?action=member.role_changed`);
    expect(changed).toEqual([
      expect.objectContaining({
        action: "member.role_changed",
        actor: { type: "user", userId: t.owner.user.id, email: t.owner.user.email },
        target: { type: "user", id: dev.user.id, label: dev.user.email },
        data: { from: "developer", to: "admin" },
        projectId: null,
      }),
    ]);
    const removed = await events(t.owner.client, `${t.base}?action=member.removed`);
    expect(removed).toMatchObject([{ target: { id: viewer.user.id }, data: { role: "viewer" } }]);
    // The family filter sees both; the other org's log has neither.
    expect((await events(t.owner.client, `${t.base}?action=member`)).map((e) => e.action)).toEqual(
      expect.arrayContaining(["member.role_changed", "member.removed"]),
    );
    expect(await events(other.owner.client, `${other.base}?action=member`)).toEqual([]);
    // Someone else's org's log by its id or slug: not found, as any org one is not in.
    expect((await other.owner.client.get(t.base)).statusCode).toBe(404);
    expect((await other.owner.client.get(`/api/orgs/${t.orgId}/audit/events`)).statusCode).toBe(404);
  });

  it("is for admins: a developer and a viewer are refused, an admin reads it", async () => {
    const t = await team("developer", "viewer", "admin");
    const [dev, viewer, admin] = t.members as [SignedUp, SignedUp, SignedUp];
    for (const who of [dev, viewer]) {
      for (const url of [t.base, `${t.base}.jsonl`, `${t.base}.csv`]) {
        const res = await who.client.get(url);
        expect([url, res.statusCode, res.json().error?.code]).toEqual([url, 403, "forbidden"]);
      }
    }
    expect((await admin.client.get(t.base)).statusCode).toBe(200);
  });

  it("pages newest first and filters by actor, project and time", async () => {
    const t = await team("admin");
    const [admin] = t.members as [SignedUp];
    const projectId = crypto.randomUUID();
    await kiln.database.transaction(async (tx) => {
      for (let i = 0; i < 7; i++) {
        await recordAudit(tx, {
          orgId: t.orgId,
          action: "project.updated",
          actor: { type: "user", userId: i % 2 ? admin.user.id : t.owner.user.id },
          projectId: i < 3 ? projectId : null,
          data: { n: i },
        });
      }
    });
    const first = await t.owner.client.get(`${t.base}?action=project.updated&limit=3`);
    const page1 = first.json();
    expect(page1.events.map((e: AuditEvent) => e.data.n)).toEqual([6, 5, 4]);
    const page2 = (
      await t.owner.client.get(`${t.base}?action=project.updated&limit=3&before=${page1.nextBefore}`)
    ).json();
    expect(page2.events.map((e: AuditEvent) => e.data.n)).toEqual([3, 2, 1]);
    const page3 = (
      await t.owner.client.get(`${t.base}?action=project.updated&limit=3&before=${page2.nextBefore}`)
    ).json();
    expect([page3.events.map((e: AuditEvent) => e.data.n), page3.nextBefore]).toEqual([[0], null]);

    const byAdmin = await events(t.owner.client, `${t.base}?action=project.updated&actor=${admin.user.id}`);
    expect(byAdmin.map((e) => e.data.n)).toEqual([5, 3, 1]);
    const byProject = await events(t.owner.client, `${t.base}?project=${projectId}`);
    expect(byProject.map((e) => e.data.n)).toEqual([2, 1, 0]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await events(t.owner.client, `${t.base}?since=${future}`)).toEqual([]);
    expect((await events(t.owner.client, `${t.base}?until=${future}&action=project`)).length).toBe(7);
  });

  it("exports the filtered log as JSON lines and as CSV a spreadsheet cannot run", async () => {
    const t = await team();
    await kiln.database.transaction(async (tx) => {
      await recordAudit(
        tx,
        {
          orgId: t.orgId,
          action: "project.created",
          actor: { type: "user", userId: t.owner.user.id },
          target: { type: "project", id: "p1", label: '=HYPERLINK("http://evil","x"), "quoted"' },
          data: { slug: "one" },
        },
        {
          orgId: t.orgId,
          action: "project.deleted",
          actor: { type: "system" },
          target: { type: "project", id: "p1", label: "line\nbreak" },
        },
      );
    });
    const jsonl = await t.owner.client.get(`${t.base}.jsonl?action=project`);
    expect(jsonl.statusCode).toBe(200);
    expect(jsonl.headers["content-type"]).toContain("application/x-ndjson");
    expect(jsonl.headers["content-disposition"]).toBe(`attachment; filename="${t.slug}-audit.jsonl"`);
    const lines = jsonl.body
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(lines.map((e) => e.action)).toEqual(["project.created", "project.deleted"]);
    expect(lines[1]!.actor).toEqual({ type: "system", userId: null, email: null });

    const csv = await t.owner.client.get(`${t.base}.csv?action=project`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toContain("text/csv");
    const rows = csv.body.split("\r\n");
    expect(rows[0]).toBe(
      "seq,id,at,action,actor_type,actor_user_id,actor_email,project_id,target_type,target_id,target_label,ip,data",
    );
    expect(rows[1]).toContain(`,"'=HYPERLINK(""http://evil"",""x""), ""quoted""",`);
    expect(rows[1]).toContain(`,"{""slug"":""one""}"`);
    expect(csv.body).toContain('"line\nbreak"');
    // Nothing matches: a header and no rows; an empty JSON lines file.
    expect((await t.owner.client.get(`${t.base}.csv?action=task`)).body).toBe(`${rows[0]}\r\n`);
    expect((await t.owner.client.get(`${t.base}.jsonl?action=task`)).body).toBe("");
  });

  it("streams a large export in batches, every row once, in order", async () => {
    const t = await team();
    await kiln.database.transaction(async (tx) => {
      for (let i = 0; i < 1_234; i += 200) {
        await recordAudit(
          tx,
          ...Array.from({ length: Math.min(200, 1_234 - i) }, (_, j) => ({
            orgId: t.orgId,
            action: "agent.tool_call" as const,
            actor: { type: "agent" as const, userId: t.owner.user.id },
            data: { n: i + j },
          })),
        );
      }
    });
    const res = await t.owner.client.get(`${t.base}.jsonl?action=agent.tool_call`);
    const ns = res.body
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as AuditEvent).data.n);
    expect(ns).toEqual(Array.from({ length: 1_234 }, (_, i) => i));
  });

  it("refuses garbage filters with a 400 naming the field", async () => {
    const t = await team();
    for (const q of [
      "action=member.exploded",
      "action=x%27%3B--",
      "actor=not-a-uuid",
      "project=../../etc",
      "since=yesterday",
      "limit=0",
      "limit=201",
      "before=-1",
      "before=abc",
      "unknown=1",
      `action=${"a".repeat(10_000)}`,
    ]) {
      const res = await t.owner.client.get(`${t.base}?${q}`);
      expect([q, res.statusCode, res.json().error?.code]).toEqual([q, 400, "validation_failed"]);
    }
    expect((await t.owner.client.get(`${t.base}.csv?limit=5`)).statusCode).toBe(400);
  });

  it("cannot be edited or emptied, not even by SQL; only retention removes old records", async () => {
    const t = await team();
    await kiln.database.transaction((tx) =>
      recordAudit(tx, {
        orgId: t.orgId,
        action: "org.updated",
        actor: { type: "user", userId: t.owner.user.id },
        data: { name: "x" },
      }),
    );
    const org = sql.raw(`'${t.orgId}'`);
    for (const statement of [
      sql`UPDATE audit_events SET action = 'org.deleted' WHERE org_id = ${org}`,
      sql`DELETE FROM audit_events WHERE org_id = ${org}`,
      sql`TRUNCATE audit_events`,
    ]) {
      const failed = await kiln.database.db.execute(statement).then(
        () => "done",
        (err: Error) => String((err.cause as Error | undefined)?.message ?? err.message),
      );
      expect(failed).toMatch(/append-only/);
    }
    expect((await events(t.owner.client, `${t.base}?action=org.updated`)).length).toBe(1);

    // Retention: records older than the limit go, newer ones stay.
    const old = crypto.randomUUID();
    await kiln.database.db.execute(sql`INSERT INTO audit_events (id, org_id, at, action, actor_type, target_type, target_id)
      VALUES (${crypto.randomUUID()}, ${t.orgId}, now() - interval '40 days', 'org.updated', 'system', 'org', ${old})`);
    expect((await events(t.owner.client, `${t.base}?action=org.updated`)).length).toBe(2);
    expect(await kiln.services.audit.prune(30 * 86_400_000)).toBeGreaterThanOrEqual(1);
    const left = await events(t.owner.client, `${t.base}?action=org.updated`);
    expect(left.map((e) => e.target?.id ?? null)).toEqual([null]);
  });

  it("is written with the change or not at all: a failed change leaves no record, a failed record no change", async () => {
    const t = await team("developer");
    const [dev] = t.members as [SignedUp];
    // A record that would carry a secret fails, and with it the change it records.
    await expect(
      kiln.database.transaction(async (tx) => {
        await tx.execute(sql`UPDATE orgs SET name = 'Renamed' WHERE id = ${t.orgId}`);
        await recordAudit(tx, {
          orgId: t.orgId,
          action: "llm.provider_updated",
          actor: { type: "user", userId: t.owner.user.id },
          data: { provider: "openai", apiKey: "sk-live-123" },
        });
      }),
    ).rejects.toThrow(/never recorded/);
    const [org] = await query<{ name: string }>(
      kiln.database.db,
      sql`SELECT name FROM orgs WHERE id = ${t.orgId}`,
    );
    expect(org!.name).toBe("Audited");
    // A change refused (the last owner cannot be demoted) leaves no record.
    const demoted = await t.owner.client.patch(`/api/orgs/${t.slug}/members/${t.owner.user.id}`, {
      role: "admin",
    });
    expect(demoted.statusCode).toBe(409);
    expect(await events(t.owner.client, `${t.base}?action=member.role_changed`)).toEqual([]);
    // A developer's attempt is refused before anything is written.
    expect(
      (await dev.client.patch(`/api/orgs/${t.slug}/members/${t.owner.user.id}`, { role: "viewer" }))
        .statusCode,
    ).toBe(403);
    expect(await events(t.owner.client, `${t.base}?action=member.role_changed`)).toEqual([]);
  });
});
