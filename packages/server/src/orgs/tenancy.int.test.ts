import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { type AnyRoute, allRoutes, can, type ErrorCode, type Role, routeKey } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { chatMessages } from "../db/schema-tenant.ts";
import type { TestClient } from "../testing/client.ts";
import { startFakeGitea } from "../testing/git-hosts/gitea.ts";
import type { FakeGitHost } from "../testing/git-hosts/http.ts";
import { startGitServer, type TestGitServer } from "../testing/git-server.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueEmail, uniqueSlug } from "../testing/harness.ts";
import { servedRoutes } from "../testing/served-routes.ts";

/**
 * The tenant boundary. Routes are read from the running app (its OpenAPI document, checked against
 * Fastify's own route table), so an org-scoped route added later is swept without anyone listing it here.
 */

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS: Method[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const ORG_PATH = "/api/orgs/{org}";

/** Every route's contract, by `METHOD /path/{param}`. */
const contracts = new Map(allRoutes().map((route) => [routeKey(route), route]));

/** Routes that exist today; the sweep must find at least these, or route discovery is broken. */
const KNOWN_ROUTES = [
  "GET /api/orgs/{org}",
  "PATCH /api/orgs/{org}",
  "DELETE /api/orgs/{org}",
  "GET /api/orgs/{org}/members",
  "PATCH /api/orgs/{org}/members/{userId}",
  "DELETE /api/orgs/{org}/members/{userId}",
  "GET /api/orgs/{org}/invitations",
  "POST /api/orgs/{org}/invitations",
  "DELETE /api/orgs/{org}/invitations/{invitationId}",
  "GET /api/orgs/{org}/projects",
  "POST /api/orgs/{org}/projects",
  "GET /api/orgs/{org}/projects/{project}",
  "PATCH /api/orgs/{org}/projects/{project}",
  "DELETE /api/orgs/{org}/projects/{project}",
  "GET /api/orgs/{org}/projects/{project}/runtime",
  "POST /api/orgs/{org}/projects/{project}/runtime/start",
  "POST /api/orgs/{org}/projects/{project}/preview-session",
];

/**
 * What a caller who may make the call gets here: streams asked for JSON (as here) answer once access is checked,
 * server-sent events 406, a WebSocket 426; everything else its success status.
 */
function allowed(route: OrgRoute): [number, ErrorCode | undefined] {
  const { contract } = route;
  if (contract.stream === "websocket") return [426, "upgrade_required"];
  if (contract.stream === "sse") return [406, "not_acceptable"];
  return [contract.status ?? 200, undefined];
}

/**
 * What a member with `role` gets calling `route` on the org owner's resources (so a route whose contract asks
 * more for someone else's things than for one's own, `others`, needs that): the contract's permission decides.
 */
function expectedFor(role: Role, route: OrgRoute): [number, ErrorCode | undefined] {
  const needs = route.contract.others ?? route.contract.permission;
  if (!needs) throw new Error(`${route.method} ${route.path}: an org route without a permission`);
  return needs !== "none" && can(role, needs) ? allowed(route) : [403, "forbidden"];
}

/** What a lookup of another tenant's sub-resource inside one's own org must answer. */
const NOT_FOUND_CODE: Record<string, ErrorCode> = {
  project: "project_not_found",
  userId: "member_not_found",
  invitationId: "invitation_not_found",
  terminalId: "terminal_not_found",
  sha: "checkpoint_not_found",
  providerId: "provider_not_found",
  priceId: "price_not_found",
  chatId: "chat_not_found",
  messageId: "message_not_found",
  imageId: "image_not_found",
  jobId: "job_not_found",
  workerTokenId: "worker_token_not_found",
  taskId: "task_not_found",
  commentId: "comment_not_found",
  statusId: "status_not_found",
  ruleId: "rule_not_found",
  variable: "env_var_not_found",
  deployment: "deployment_not_found",
  shareLink: "share_link_not_found",
  webhook: "webhook_not_found",
  delivery: "webhook_delivery_not_found",
  target: "deploy_target_not_found",
  domain: "domain_not_found",
  versionLink: "share_link_not_found",
  budget: "budget_not_found",
  host: "git_host_not_found",
  agentId: "agent_not_found",
  serverId: "mcp_server_not_found",
  listingId: "listing_not_found",
};

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
        parameters?: Array<{ in: string; name: string; required?: boolean }>;
      }
    >
  >;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface OrgRoute {
  method: Method;
  path: string;
  /** Its declaration in protocol `routes`: the permission and the answers the sweeps expect come from it. */
  contract: AnyRoute;
  /** A body that passes the route's schema, so the request reaches the handler and its org check. */
  body: unknown;
  /** Required query parameters (`?path=…`), from QUERY_VALUES, likewise; empty when there are none. */
  query: string;
}

/** Values for required query parameters. Every tenant's project holds `README.md` (see makeTenant); `name` names an import. */
const QUERY_VALUES: Record<string, string> = { path: "README.md", query: "tenant", name: "Imported" };

interface Tenant {
  owner: SignedUp;
  org: { id: string; slug: string; schema: string };
  project: { id: string; slug: string };
  invitationId: string;
  terminalId: string;
  providerId: string;
  priceId: string;
  /** A checkpoint of the tenant's project that no other project has. */
  sha: string;
  chatId: string;
  /** An answered message in that chat. */
  messageId: string;
  /** An image uploaded to that chat. */
  imageId: string;
  /** A queued AI job on the project. */
  jobId: string;
  workerTokenId: string;
  taskId: string;
  /** A comment on that task. */
  commentId: string;
  /** A workflow status of the project that holds no task. */
  statusId: string;
  ruleId: string;
  /** An environment variable of the project, named after the tenant (so no other project has it). */
  variable: string;
  /** A built deployment of the project (recorded directly: a real build is deployments.int.test.ts's). */
  deployment: string;
  /** An open share link of the project's preview. */
  shareLink: string;
  /** A webhook of the org, and one (finished) delivery of it. */
  webhook: string;
  delivery: string;
  /** An external deploy target of the org (its API is never reached here). */
  target: string;
  /** A (pending) custom domain of the project. */
  domain: string;
  /** A share link of that deployment. */
  versionLink: string;
  /** A spend budget of the org (its project's, monthly). */
  budget: string;
  /** A connected git host of the org (a fake Gitea's API: listed by its owner, never changed here). */
  gitHost: string;
  /** An agent definition of the org (two versions, the second using the org's MCP server). */
  agentId: string;
  /** An MCP server of the org (stdio: nothing to reach while saving it). */
  serverId: string;
  /** A marketplace listing the org published for itself only (ADR 0040). */
  listingId: string;
}

let kiln: TestKiln;
let gitServer: TestGitServer;
let gitea: FakeGitHost;
const GITEA_TOKEN = "gitea-tenant-token-secret";
let routes: OrgRoute[];
let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  // A git host's API for the tenants' connections (a strict fake on a real https server; testing/git-hosts/).
  gitServer = await startGitServer();
  gitea = await startFakeGitea(gitServer, { token: GITEA_TOKEN, login: "tenant" });
  kiln = await startTestKiln({
    env: { KILN_EGRESS_ALLOW: new URL(gitea.apiUrl).host, KILN_EXTRA_CA_FILE: gitServer.caFile },
  });
  routes = await discoverOrgRoutes();
  a = await makeTenant("a");
  b = await makeTenant("b");
});
afterAll(async () => {
  await kiln?.stop();
  await gitea?.close();
  await gitServer?.stop();
});

describe("route discovery", () => {
  it("finds every org-scoped route the app serves, documented and routed alike", () => {
    const found = routes.map((r) => `${r.method} ${r.path}`);
    // 94 org routes were swept when the expectations were hand lists (before route contracts): no fewer now.
    expect(found.length).toBeGreaterThanOrEqual(94);
    expect(found).toEqual(expect.arrayContaining(KNOWN_ROUTES));
    // A route hidden from the OpenAPI document would escape the sweep; Fastify's route table catches it.
    expect([...found].sort()).toEqual(servedOrgRoutes().sort());
  });
});

describe("another tenant's org", () => {
  it("is a 404 org_not_found on every route, by id, slug, and for each of its resources, and changes nothing", async () => {
    const before = await stateOf(b);
    const mailsBefore = kiln.mails.sent.length;
    const failures: string[] = [];
    for (const route of routes) {
      for (const org of [b.org.id, b.org.slug, b.org.id.toUpperCase()]) {
        const projectRefs = route.path.includes("{project}")
          ? [b.project.id, b.project.slug]
          : [b.project.id];
        for (const project of projectRefs) {
          const url = urlFor(route.path, { ...paramsOf(b), org, project });
          const res = await send(a.owner.client, route, url);
          if (res.statusCode !== 404 || errorCode(res) !== "org_not_found") {
            failures.push(`${route.method} ${url} → ${res.statusCode} ${errorCode(res)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await stateOf(b)).toEqual(before);
    expect(kiln.mails.sent.length).toBe(mailsBefore);
  });

  it("is there for its own owner with the same ids (so the 404s above are not bad URLs)", async () => {
    for (const route of routes.filter((r) => r.method === "GET")) {
      for (const org of [b.org.id, b.org.slug]) {
        const res = await send(b.owner.client, route, urlFor(route.path, { ...paramsOf(b), org }));
        expect(res.statusCode, `${route.method} ${route.path}`).toBe(allowed(route)[0]);
      }
    }
  });

  it("needs a signed-in caller on every route", async () => {
    const anonymous = kiln.client();
    for (const route of routes) {
      const res = await send(anonymous, route, urlFor(route.path, paramsOf(b)));
      expect([res.statusCode, errorCode(res)], `${route.method} ${route.path}`).toEqual([
        401,
        "unauthenticated",
      ]);
    }
  });

  it("lends none of its resources to a caller's own org: 404 <resource>_not_found", async () => {
    const before = { a: await stateOf(a), b: await stateOf(b) };
    const failures: string[] = [];
    for (const route of routes) {
      const inner = paramNames(route.path)
        .filter((p) => p !== "org")
        .at(-1);
      if (!inner) continue;
      const expected = NOT_FOUND_CODE[inner];
      if (!expected) {
        failures.push(
          `${route.method} ${route.path}: say in NOT_FOUND_CODE what a missing {${inner}} answers`,
        );
        continue;
      }
      const values = paramsOf(a);
      for (const ref of inner === "project" ? [b.project.id, b.project.slug] : [paramsOf(b)[inner]!]) {
        const url = urlFor(route.path, { ...values, [inner]: ref });
        const res = await send(a.owner.client, route, url);
        if (res.statusCode !== 404 || errorCode(res) !== expected) {
          failures.push(`${route.method} ${url} → ${res.statusCode} ${errorCode(res)}, wanted ${expected}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect({ a: await stateOf(a), b: await stateOf(b) }).toEqual(before);
  });

  it("keeps its projects in its own schema", async () => {
    const db = kiln.database.db;
    expect(a.org.schema).toBe(`org_${a.org.slug.replaceAll("-", "_")}`);
    expect(b.org.schema).toBe(`org_${b.org.slug.replaceAll("-", "_")}`);
    expect(a.org.schema).not.toBe(b.org.schema);
    const tables = await query<{ table_schema: string }>(
      db,
      sql`SELECT table_schema FROM information_schema.tables
          WHERE table_name = 'projects' AND table_schema IN (${a.org.schema}, ${b.org.schema}, 'public')
          ORDER BY table_schema`,
    );
    expect(tables.map((t) => t.table_schema)).toEqual([a.org.schema, b.org.schema].sort());
    for (const [mine, theirs] of [
      [a, b],
      [b, a],
    ] as const) {
      const stored = await query<{ id: string }>(db, sql.raw(`SELECT id FROM "${mine.org.schema}".projects`));
      expect(stored.map((p) => p.id)).toContain(mine.project.id);
      expect(stored.map((p) => p.id)).not.toContain(theirs.project.id);
    }
  });

  it("cannot take a slug spelled like an id, so no org can stand in for another's id", async () => {
    // Orgs are addressed by id or slug; a slug spelled like another tenant's id would make `/api/orgs/<id>`
    // ambiguous for anyone who belongs to both. Slugs start with a letter, so make the id start with one.
    const shadow = `f${b.org.id.slice(1)}`;
    const created = await a.owner.client.post("/api/orgs", { name: "Shadow", slug: shadow });
    expect([created.statusCode, errorCode(created)]).toEqual([400, "slug_reserved"]);
    const renamed = await a.owner.client.patch(`/api/orgs/${a.org.slug}`, { slug: shadow });
    expect([renamed.statusCode, errorCode(renamed)]).toEqual([400, "slug_reserved"]);
    expect(await query(kiln.database.db, sql`SELECT id FROM orgs WHERE slug = ${shadow}`)).toEqual([]);
  });

  it("resolves an id to that org only, even if an older org row has a slug spelled like it", async () => {
    // Such a row can no longer be made through the API; write it directly, as data from before the rule.
    const legacy = {
      id: randomUUID(),
      slug: a.org.id,
      schema: `org_${uniqueSlug("l").replaceAll("-", "_")}`,
    };
    const db = kiln.database.db;
    await db.execute(
      sql`INSERT INTO orgs (id, slug, name, schema_name) VALUES (${legacy.id}::uuid, ${legacy.slug}, 'Legacy', ${legacy.schema})`,
    );
    await db.execute(
      sql`INSERT INTO memberships (org_id, user_id, role) VALUES (${legacy.id}::uuid, ${a.owner.user.id}::uuid, 'owner')`,
    );
    try {
      const res = await a.owner.client.get(`/api/orgs/${a.org.id}`);
      expect([res.statusCode, res.json().id]).toEqual([200, a.org.id]);
    } finally {
      await db.execute(sql`DELETE FROM orgs WHERE id = ${legacy.id}::uuid`);
    }
  });
});

describe("a project's id", () => {
  it("cannot be used as a project slug: 400 slug_reserved", async () => {
    const base = `/api/orgs/${a.org.slug}/projects`;
    const idShaped = `f${b.project.id.slice(1)}`;
    const created = await a.owner.client.post(base, { name: "Decoy", slug: idShaped });
    expect([created.statusCode, errorCode(created)]).toEqual([400, "slug_reserved"]);
    const renamed = await a.owner.client.patch(`${base}/${a.project.id}`, { slug: idShaped });
    expect([renamed.statusCode, errorCode(renamed)]).toEqual([400, "slug_reserved"]);
  });

  it("names that project even when an older project's slug is spelled like it", async () => {
    const { client } = a.owner;
    const base = `/api/orgs/${a.org.slug}/projects`;
    let target = (await client.post(base, { name: "Target" })).json();
    // Slugs start with a letter, so only an id that does can be spelled as a slug.
    while (!/^[a-f]/.test(target.id)) {
      expect((await client.delete(`${base}/${target.id}`)).statusCode).toBe(200);
      target = (await client.post(base, { name: "Target" })).json();
    }
    // The API refuses such a slug now (above); write the row directly, as data from before the rule.
    const decoyId = randomUUID();
    await kiln.database.db.execute(
      sql.raw(
        `INSERT INTO "${a.org.schema}".projects (id, slug, name) VALUES ('${decoyId}', '${target.id}', 'Decoy')`,
      ),
    );
    // Updating the target moves its row behind the decoy's, which is what an unordered lookup would find first.
    expect((await client.patch(`${base}/${target.id}`, { description: "x" })).statusCode).toBe(200);

    expect((await client.get(`${base}/${target.id}`)).json().name).toBe("Target");
    expect((await client.delete(`${base}/${target.id}`)).statusCode).toBe(200);
    expect((await client.get(`${base}/${decoyId}`)).json().name).toBe("Decoy");
    expect((await client.delete(`${base}/${decoyId}`)).statusCode).toBe(200);
  });
});

describe("roles", () => {
  it.each(["viewer", "reviewer"] as const)(
    "a %s gets what its role's permissions allow by the contracts (a reviewer may comment): 403 forbidden on every other route",
    async (role) => {
      const member = await join(a, role);
      const before = await stateOf(a);
      const failures: string[] = [];
      for (const route of routes) {
        const [status, code] = expectedFor(role, route);
        for (const org of [a.org.id, a.org.slug]) {
          // {userId} is the owner, not the member: leaving is the one write every member may make (below).
          const url = urlFor(route.path, { ...paramsOf(a), org });
          const res = await send(member.client, route, url);
          if (res.statusCode !== status || errorCode(res) !== code) {
            failures.push(
              `${route.method} ${url} → ${res.statusCode} ${errorCode(res)}, wanted ${status} ${code}`,
            );
          }
        }
      }
      expect(failures).toEqual([]);
      const after = await stateOf(a);
      if (role === "reviewer") {
        // The reviewer's own comments (and their log entries) are the one change allowed.
        after.taskComments = after.taskComments.filter((c) => before.taskComments.some((b) => b.id === c.id));
        after.taskActivity = after.taskActivity.filter((e) => before.taskActivity.some((b) => b.id === e.id));
      }
      expect(after).toEqual(before);
    },
  );

  it("a developer is refused every route whose contract asks more than a developer has, and that changes nothing", async () => {
    const dev = await join(a, "developer");
    const before = await stateOf(a);
    const refused = routes.filter((route) => expectedFor("developer", route)[0] === 403);
    // Org settings, members, invitations, project deletion, workflows, automation, providers, worker tokens…
    expect(refused.length).toBeGreaterThan(15);
    const failures: string[] = [];
    for (const route of refused) {
      const url = urlFor(route.path, paramsOf(a));
      const res = await send(dev.client, route, url);
      if (res.statusCode !== 403 || errorCode(res) !== "forbidden") {
        failures.push(`${route.method} ${url} → ${res.statusCode} ${errorCode(res)}, wanted 403 forbidden`);
      }
    }
    expect(failures).toEqual([]);
    expect(await stateOf(a)).toEqual(before);
  });

  it("a viewer may still leave the org", async () => {
    const viewer = await join(a, "viewer");
    const left = await viewer.client.delete(`/api/orgs/${a.org.slug}/members/${viewer.user.id}`);
    expect([left.statusCode, left.json()]).toEqual([200, { ok: true }]);
    const after = await viewer.client.get(`/api/orgs/${a.org.slug}`);
    expect([after.statusCode, errorCode(after)]).toEqual([404, "org_not_found"]);
    expect(await roleIn(a, viewer.user.id)).toBeUndefined();
  });

  it("a developer creates and updates projects but cannot delete them, nor manage the org, members or invitations", async () => {
    const dev = await join(a, "developer");
    const base = `/api/orgs/${a.org.slug}`;
    const created = await dev.client.post(`${base}/projects`, { name: "Dev Work" });
    expect(created.statusCode).toBe(201);
    const project = created.json();
    expect(project.createdBy).toBe(dev.user.id);
    const updated = await dev.client.patch(`${base}/projects/${project.id}`, { description: "wip" });
    expect([updated.statusCode, updated.json().description]).toEqual([200, "wip"]);

    const forbidden: Array<Promise<LightMyRequestResponse>> = [
      dev.client.delete(`${base}/projects/${project.id}`),
      dev.client.patch(base, { name: "Taken Over" }),
      dev.client.delete(base),
      dev.client.patch(`${base}/members/${a.owner.user.id}`, { role: "viewer" }),
      dev.client.patch(`${base}/members/${dev.user.id}`, { role: "admin" }),
      dev.client.delete(`${base}/members/${a.owner.user.id}`),
      dev.client.get(`${base}/invitations`),
      dev.client.post(`${base}/invitations`, { email: uniqueEmail("dev-invite"), role: "viewer" }),
      dev.client.delete(`${base}/invitations/${a.invitationId}`),
    ];
    for (const res of await Promise.all(forbidden)) {
      expect([res.statusCode, errorCode(res)]).toEqual([403, "forbidden"]);
    }
    expect((await dev.client.get(`${base}/projects/${project.id}`)).statusCode).toBe(200);
    expect(await roleIn(a, dev.user.id)).toBe("developer");
    expect(await roleIn(a, a.owner.user.id)).toBe("owner");
    expect((await a.owner.client.delete(`${base}/projects/${project.id}`)).statusCode).toBe(200);
  });

  it("a removed member loses access with the very next request", async () => {
    const member = await join(a, "developer");
    const base = `/api/orgs/${a.org.slug}`;
    expect((await member.client.get(`${base}/projects/${a.project.slug}`)).statusCode).toBe(200);

    const removed = await a.owner.client.delete(`${base}/members/${member.user.id}`);
    expect(removed.statusCode).toBe(200);

    for (const res of [
      await member.client.get(base),
      await member.client.get(`/api/orgs/${a.org.id}/projects`),
      await member.client.get(`${base}/projects/${a.project.slug}`),
      await member.client.patch(`${base}/projects/${a.project.id}`, { name: "Still here?" }),
      await member.client.post(`${base}/projects`, { name: "Sneaky" }),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([404, "org_not_found"]);
    }
    const me = (await member.client.get("/api/auth/me")).json();
    expect(me.orgs.map((o: { orgId: string }) => o.orgId)).not.toContain(a.org.id);
  });
});

async function makeTenant(prefix: string): Promise<Tenant> {
  const owner = await kiln.signup();
  const created = await owner.client.post("/api/orgs", { name: `Org ${prefix}`, slug: uniqueSlug(prefix) });
  expect(created.statusCode).toBe(201);
  const { id, slug } = created.json();
  const [row] = await query<{ schema_name: string }>(
    kiln.database.db,
    sql`SELECT schema_name FROM orgs WHERE id = ${id}::uuid`,
  );
  const project = await owner.client.post(`/api/orgs/${slug}/projects`, { name: `Project ${prefix}` });
  expect(project.statusCode).toBe(201);
  const readme = await owner.client.put(`/api/orgs/${slug}/projects/${project.json().slug}/files/content`, {
    path: "README.md",
    content: `tenant ${prefix}\n`,
  });
  expect(readme.statusCode).toBe(200);
  const invitation = await owner.client.post(`/api/orgs/${slug}/invitations`, {
    email: uniqueEmail(`invitee-${prefix}`),
    role: "developer",
  });
  expect(invitation.statusCode).toBe(201);
  const terminal = await owner.client.post(`/api/orgs/${slug}/projects/${project.json().slug}/terminals`, {});
  expect(terminal.statusCode).toBe(201);
  // A .invalid host never resolves, so listing this provider's models fails at once, offline.
  const provider = await owner.client.post(`/api/orgs/${slug}/llm/providers`, {
    name: `own-${prefix}`,
    kind: "openai-compatible",
    baseUrl: `https://llm-${prefix}.invalid/v1`,
    apiKey: `sk-tenant-${prefix}-secret`,
  });
  expect(provider.statusCode).toBe(201);
  const price = await owner.client.put(`/api/orgs/${slug}/llm/prices`, {
    model: `model-${prefix}`,
    inputPerMTok: 1,
    outputPerMTok: 2,
  });
  expect(price.statusCode).toBe(200);
  const chat = await owner.client.post(`/api/orgs/${slug}/projects/${project.json().slug}/chats`, {});
  expect(chat.statusCode).toBe(201);
  // Stored as a finished turn would be: this Kiln has no model to answer one.
  const messageId = randomUUID();
  await kiln.database.tenant(row!.schema_name, (tx) =>
    tx.insert(chatMessages).values({
      id: messageId,
      chatId: chat.json().id,
      role: "assistant",
      parts: [{ type: "text", text: `answer ${prefix}` }],
      status: "completed",
      reason: "done",
    }),
  );
  const image = await owner.client.request(
    "POST",
    `/api/orgs/${slug}/projects/${project.json().slug}/chats/${chat.json().id}/images`,
    Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
      "base64",
    ),
    { headers: { "content-type": "application/octet-stream" } },
  );
  expect(image.statusCode).toBe(201);
  const board = `/api/orgs/${slug}/projects/${project.json().slug}`;
  const task = await owner.client.post(`${board}/tasks`, { title: `Task ${prefix}`, labels: [prefix] });
  expect(task.statusCode).toBe(201);
  const comment = await owner.client.post(`${board}/tasks/${task.json().id}/comments`, {
    body: `hi ${prefix}`,
  });
  expect(comment.statusCode).toBe(201);
  const workflow = (await owner.client.get(`${board}/workflow`)).json();
  const rules = (await owner.client.get(`${board}/automation/rules`)).json();
  const job = await owner.client.post(`/api/orgs/${slug}/projects/${project.json().slug}/jobs`, {
    kind: "implement",
    instructions: `job ${prefix}`,
  });
  expect(job.statusCode).toBe(201);
  const variable = `TENANT_${prefix.toUpperCase()}_SECRET`;
  const env = await owner.client.put(`${board}/env`, {
    name: variable,
    value: `tenant-${prefix}-env-secret-value`,
    secret: true,
  });
  expect(env.statusCode).toBe(200);
  const workerToken = await owner.client.post(`/api/orgs/${slug}/workers/tokens`, {
    name: `worker ${prefix}`,
  });
  expect(workerToken.statusCode).toBe(201);
  const deployment = randomUUID();
  await kiln.database.tenant(row!.schema_name, (tx) =>
    tx.execute(sql`INSERT INTO deployments (id, project_id, number, status, artifact, file_count, byte_count)
      VALUES (${deployment}, ${project.json().id}, 1, 'ready', ${JSON.stringify({ files: {}, spa: false })}::jsonb, 0, 0)`),
  );
  // A linked git remote (nothing listens there: no sweep request may get as far as a transfer).
  await kiln.database.tenant(row!.schema_name, (tx) =>
    tx.execute(sql`INSERT INTO git_remotes (project_id, url, branch)
      VALUES (${project.json().id}, ${`https://git.invalid/${prefix}.git`}, 'main')`),
  );
  const share = await owner.client.post(`${board}/share-links`, { label: `tenant ${prefix}` });
  expect(share.statusCode).toBe(201);
  // A public address literal: saved without DNS; subscribed to members only, so nothing here is sent.
  const hook = await owner.client.post(`/api/orgs/${slug}/webhooks`, {
    url: `https://93.184.216.34/${prefix}`,
    families: ["member"],
  });
  expect(hook.statusCode, hook.body).toBe(201);
  const delivery = randomUUID();
  await kiln.database.db.execute(sql`INSERT INTO webhook_deliveries (id, org_id, webhook_id, event, payload, state)
    VALUES (${delivery}, ${id}, ${hook.json().webhook.id}, 'member.joined', '{}'::jsonb, 'succeeded')`);
  const target = await owner.client.post(`/api/orgs/${slug}/deploy-targets`, {
    kind: "netlify",
    name: `Netlify ${prefix}`,
    token: `netlify-tenant-${prefix}-secret`,
  });
  expect(target.statusCode, target.body).toBe(201);
  const linked = await owner.client.patch(`${board}/deploy-targets/${target.json().id}`, {
    autoDeploy: true,
  });
  expect(linked.statusCode, linked.body).toBe(200);
  const domain = await owner.client.post(`${board}/domains`, { hostname: `tenant-${prefix}.example.com` });
  expect(domain.statusCode, domain.body).toBe(201);
  const versionLink = await owner.client.post(`${board}/deployments/${deployment}/share-links`, {
    label: `version ${prefix}`,
  });
  expect(versionLink.statusCode, versionLink.body).toBe(201);
  const budget = await owner.client.post(`/api/orgs/${slug}/budgets`, {
    scope: "project",
    scopeId: project.json().id,
    period: "monthly",
    unit: "usd",
    limit: 25,
  });
  expect(budget.statusCode, budget.body).toBe(201);
  const gitHost = await owner.client.post(`/api/orgs/${slug}/git-hosts`, {
    kind: "gitea",
    name: `Gitea ${prefix}`,
    token: GITEA_TOKEN,
    apiUrl: gitea.apiUrl,
    gitUrl: gitea.gitUrl,
  });
  expect(gitHost.statusCode, gitHost.body).toBe(201);
  const agentSpec = { name: `Agent ${prefix}`, systemPrompt: `Only ${prefix}.`, tools: ["read_file"] };
  const agent = await owner.client.post(`/api/orgs/${slug}/agents`, agentSpec);
  expect(agent.statusCode, agent.body).toBe(201);
  const server = await owner.client.post(`/api/orgs/${slug}/mcp-servers`, {
    name: `tools_${prefix}`
      .toLowerCase()
      .replace(/[^a-z0-9_]/g, "_")
      .replace(/_+/g, "_")
      .slice(0, 24),
    transport: "stdio",
    command: ["node", "mcp.js"],
    env: { TOKEN: `secret-${prefix}` },
  });
  expect(server.statusCode, server.body).toBe(201);
  const edited = await owner.client.put(`/api/orgs/${slug}/agents/${agent.json().id}`, {
    ...agentSpec,
    tools: ["read_file", "grep"],
    mcpServers: [server.json().id],
  });
  expect(edited.statusCode, edited.body).toBe(200);
  const listing = await owner.client.post(`${board}/marketplace`, { name: `Template ${prefix}` });
  expect(listing.statusCode, listing.body).toBe(201);
  return {
    serverId: server.json().id,
    listingId: listing.json().id,
    agentId: agent.json().id,
    budget: budget.json().id,
    gitHost: gitHost.json().id,
    webhook: hook.json().webhook.id,
    delivery,
    target: target.json().id,
    versionLink: versionLink.json().link.id,
    domain: domain.json().id,
    deployment,
    shareLink: share.json().link.id,
    owner,
    org: { id, slug, schema: row!.schema_name },
    project: { id: project.json().id, slug: project.json().slug },
    invitationId: invitation.json().id,
    terminalId: terminal.json().id,
    providerId: provider.json().id,
    priceId: price.json().id,
    // Saved like an agent turn: projects made from one template in the same second share their first commit.
    sha: (await kiln.services.history.checkpoint(
      { orgId: id, projectId: project.json().id },
      { message: `tenant ${prefix}` },
    ))!.sha,
    chatId: chat.json().id,
    messageId,
    imageId: image.json().id,
    jobId: job.json().id,
    workerTokenId: workerToken.json().id,
    taskId: task.json().id,
    commentId: comment.json().id,
    statusId: workflow.statuses.at(-1).id,
    ruleId: rules[0].id,
    variable,
  };
}

/** Signs up a new user and brings them into the tenant's org with `role`, the way a person would. */
async function join(tenant: Tenant, role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await tenant.owner.client.post(`/api/orgs/${tenant.org.slug}/invitations`, {
    email: member.user.email,
    role,
  });
  expect(invited.statusCode).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  const accepted = await member.client.post(`/api/invitations/${token}/accept`);
  expect([accepted.statusCode, accepted.json().role]).toEqual([200, role]);
  // The org's webhook hears `member.joined`, queued in the background: wait for it, so a state taken next
  // does not race the delivery row.
  for (let tries = 0; tries < 100; tries++) {
    const [queued] = await query(
      kiln.database.db,
      sql`SELECT 1 FROM webhook_deliveries WHERE org_id = ${tenant.org.id}::uuid AND event = 'member.joined'
          AND payload::text LIKE ${`%${member.user.id}%`}`,
    );
    if (queued) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return member;
}

async function roleIn(tenant: Tenant, userId: string): Promise<string | undefined> {
  const [row] = await query<{ role: string }>(
    kiln.database.db,
    sql`SELECT role FROM memberships WHERE org_id = ${tenant.org.id}::uuid AND user_id = ${userId}::uuid`,
  );
  return row?.role;
}

/** Everything a request could change in a tenant, read straight from the database and the disk. */
async function stateOf(tenant: Tenant) {
  const db = kiln.database.db;
  const orgId = tenant.org.id;
  return {
    org: await query(db, sql`SELECT slug, name, schema_name, updated_at FROM orgs WHERE id = ${orgId}::uuid`),
    schema: await query(db, sql`SELECT nspname FROM pg_namespace WHERE nspname = ${tenant.org.schema}`),
    members: await query(
      db,
      sql`SELECT user_id, role FROM memberships WHERE org_id = ${orgId}::uuid ORDER BY user_id`,
    ),
    invitations: await query(
      db,
      sql`SELECT id, email, role, expires_at, accepted_at, revoked_at FROM invitations
          WHERE org_id = ${orgId}::uuid ORDER BY id`,
    ),
    projects: await query(
      db,
      sql.raw(
        `SELECT id, slug, name, description, updated_at FROM "${tenant.org.schema}".projects ORDER BY id`,
      ),
    ),
    ...(await boardOf(tenant.org.schema)),
    env: await query(
      db,
      sql.raw(
        `SELECT project_id, name, secret, value_sealed, updated_at FROM "${tenant.org.schema}".project_env_vars ORDER BY 1, 2`,
      ),
    ),
    deployments: await query(
      db,
      sql.raw(
        `SELECT d.id, d.number, d.status, p.current_deployment_id FROM "${tenant.org.schema}".deployments d
         JOIN "${tenant.org.schema}".projects p ON p.id = d.project_id ORDER BY d.id`,
      ),
    ),
    shareLinks: await query(
      db,
      sql.raw(`SELECT id, revoked_at FROM "${tenant.org.schema}".share_links ORDER BY id`),
    ),
    webhooks: await query(
      db,
      sql.raw(
        `SELECT id, url, families, active, updated_at FROM "${tenant.org.schema}".webhooks ORDER BY id`,
      ),
    ),
    webhookDeliveries: await query(
      db,
      sql`SELECT id, webhook_id, state FROM webhook_deliveries WHERE org_id = ${orgId}::uuid ORDER BY id`,
    ),
    gitRemotes: await query(
      db,
      sql.raw(
        `SELECT project_id, url, host_id, branch, remote_commit, conflict, updated_at FROM "${tenant.org.schema}".git_remotes`,
      ),
    ),
    gitHosts: await query(
      db,
      sql.raw(
        `SELECT id, name, api_url, git_url, login, token_sealed, updated_at FROM "${tenant.org.schema}".git_hosts ORDER BY id`,
      ),
    ),
    deployTargets: await query(
      db,
      sql.raw(
        `SELECT id, name, token_sealed, team_id, account_id, updated_at FROM "${tenant.org.schema}".deploy_targets ORDER BY id`,
      ),
    ),
    projectDeployTargets: await query(
      db,
      sql.raw(
        `SELECT project_id, target_id, auto_deploy, provider_project FROM "${tenant.org.schema}".project_deploy_targets ORDER BY 1, 2`,
      ),
    ),
    domains: await query(
      db,
      sql.raw(
        `SELECT id, hostname, token, status, checked_at FROM "${tenant.org.schema}".custom_domains ORDER BY id`,
      ),
    ),
    versionLinks: await query(
      db,
      sql.raw(`SELECT id, revoked_at FROM "${tenant.org.schema}".deployment_share_links ORDER BY id`),
    ),
    domainClaims: await query(
      db,
      sql`SELECT domain_id, hostname, verified FROM domain_claims WHERE org_id = ${orgId}::uuid ORDER BY 1`,
    ),
    budgets: await query(
      db,
      sql.raw(
        `SELECT id, scope, scope_id, period, unit, hard_limit, soft_fraction, updated_at FROM "${tenant.org.schema}".budgets ORDER BY id`,
      ),
    ),
    agents: await query(
      db,
      sql.raw(
        `SELECT id, current_version, archived_at, updated_at FROM "${tenant.org.schema}".agents ORDER BY id`,
      ),
    ),
    agentVersions: await query(
      db,
      sql.raw(
        `SELECT agent_id, version, name, system_prompt, tools FROM "${tenant.org.schema}".agent_versions ORDER BY 1, 2`,
      ),
    ),
    chatAgents: await query(
      db,
      sql.raw(`SELECT id, agent_id, agent_version FROM "${tenant.org.schema}".chats ORDER BY id`),
    ),
    projectDir: existsSync(kiln.storage.projectDir(orgId, tenant.project.id)),
    projectFiles: await projectFiles(kiln.storage.projectDir(orgId, tenant.project.id)),
  };
}

/** The tenant's task boards: tasks, comments, activity, workflows and automation rules. */
async function boardOf(schema: string) {
  const rows = (sqlText: string) =>
    query<Record<string, unknown>>(kiln.database.db, sql.raw(sqlText.replaceAll("$s", `"${schema}"`)));
  return {
    tasks: await rows(
      "SELECT id, number, title, description, status_id, priority, assignee_type, assignee_user_id, labels, parent_id, position, updated_at FROM $s.tasks ORDER BY id",
    ),
    taskComments: await rows("SELECT id, task_id, body, edited_at FROM $s.task_comments ORDER BY id"),
    taskActivity: await rows("SELECT id, task_id, kind FROM $s.task_activity ORDER BY id"),
    workflows: await rows(
      "SELECT project_id, template, next_task_number, updated_at FROM $s.workflows ORDER BY 1",
    ),
    statuses: await rows(
      "SELECT id, name, status_group, color, position FROM $s.workflow_statuses ORDER BY id",
    ),
    transitions: await rows("SELECT from_status_id, to_status_id FROM $s.workflow_transitions ORDER BY 1, 2"),
    rules: await rows(
      "SELECT id, name, enabled, trigger, conditions, actions, updated_at FROM $s.automation_rules ORDER BY id",
    ),
  };
}

/** The project directory's top level, and the README every tenant has, as they are on disk. */
async function projectFiles(dir: string) {
  if (!existsSync(dir)) return null;
  return { names: (await readdir(dir)).sort(), readme: await readFile(path.join(dir, "README.md"), "utf8") };
}

function paramsOf(tenant: Tenant): Record<string, string> {
  return {
    org: tenant.org.slug,
    project: tenant.project.slug,
    userId: tenant.owner.user.id,
    invitationId: tenant.invitationId,
    terminalId: tenant.terminalId,
    providerId: tenant.providerId,
    priceId: tenant.priceId,
    sha: tenant.sha,
    chatId: tenant.chatId,
    messageId: tenant.messageId,
    imageId: tenant.imageId,
    jobId: tenant.jobId,
    workerTokenId: tenant.workerTokenId,
    taskId: tenant.taskId,
    commentId: tenant.commentId,
    statusId: tenant.statusId,
    ruleId: tenant.ruleId,
    variable: tenant.variable,
    deployment: tenant.deployment,
    shareLink: tenant.shareLink,
    webhook: tenant.webhook,
    delivery: tenant.delivery,
    target: tenant.target,
    domain: tenant.domain,
    versionLink: tenant.versionLink,
    budget: tenant.budget,
    host: tenant.gitHost,
    agentId: tenant.agentId,
    serverId: tenant.serverId,
    listingId: tenant.listingId,
  };
}

function paramNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

function urlFor(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    // A new kind of path parameter needs a real resource of each tenant, or the sweep proves nothing.
    if (value === undefined)
      throw new Error(`${path}: teach the tenancy test what {${name}} is for a tenant`);
    return encodeURIComponent(value);
  });
}

function send(client: TestClient, route: OrgRoute, url: string): Promise<LightMyRequestResponse> {
  return client.request(route.method, url + route.query, route.body);
}

function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return res.json()?.error?.code;
  } catch {
    return undefined;
  }
}

async function discoverOrgRoutes(): Promise<OrgRoute[]> {
  const res = await kiln.client().get("/api/openapi.json");
  expect(res.statusCode).toBe(200);
  const doc = res.json() as OpenApiDocument;
  const found: OrgRoute[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (path !== ORG_PATH && !path.startsWith(`${ORG_PATH}/`)) continue;
    for (const method of METHODS) {
      const operation = item[method.toLowerCase()];
      if (!operation) continue;
      const schema = operation.requestBody?.content?.["application/json"]?.schema;
      const query = (operation.parameters ?? [])
        .filter((p) => p.in === "query" && p.required)
        .map((p) => {
          const value = QUERY_VALUES[p.name];
          if (value === undefined) throw new Error(`${path}: teach the tenancy test a value for ?${p.name}`);
          return `${p.name}=${encodeURIComponent(value)}`;
        });
      const contract = contracts.get(`${method} ${path}`);
      if (!contract)
        throw new Error(`${method} ${path} is served but declared in no contract (protocol routes)`);
      found.push({
        method,
        path,
        contract,
        body: schema ? sample(schema, doc) : undefined,
        query: query.length ? `?${query.join("&")}` : "",
      });
    }
  }
  return found;
}

/** `METHOD /path` for every route in Fastify's route table under /api/orgs/{org}, documented or not. */
function servedOrgRoutes(): string[] {
  return servedRoutes(kiln.app)
    .filter((r) => (METHODS as string[]).includes(r.method))
    .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, "{$1}")}`)
    .filter((key) => {
      const path = key.split(" ")[1]!;
      return path === ORG_PATH || path.startsWith(`${ORG_PATH}/`);
    });
}

/** A value that satisfies a JSON Schema from the OpenAPI document (the subset our zod schemas produce). */
function sample(schema: JsonSchema, doc: OpenApiDocument): unknown {
  if (schema.$ref) {
    const target = doc.components?.schemas?.[schema.$ref.split("/").at(-1)!];
    if (!target) throw new Error(`unresolved ${schema.$ref}`);
    return sample(target, doc);
  }
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return sample(variants.find((v) => v.type !== "null") ?? variants[0]!, doc);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(s, doc)));
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "object":
      // Every property, not only the required ones: "nothing to update" refinements are not in the schema.
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sample(v, doc)]));
    case "array":
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items ?? {}, doc));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    case "string":
      return sampleString(schema);
    default:
      throw new Error(`cannot sample ${JSON.stringify(schema)}: extend sample()`);
  }
}

function sampleString(schema: JsonSchema): string {
  if (schema.format === "email") return "someone@example.com";
  if (schema.format === "uuid") return randomUUID();
  if (schema.format === "date-time") return new Date().toISOString();
  // A public address literal: passes the egress policy without DNS, and nothing is ever sent to it here.
  if (schema.format === "uri") return "https://93.184.216.34/sample";
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Number.POSITIVE_INFINITY;
  const candidates = ["sample-value", "sample", "x".repeat(Math.max(min, 1)), "0".repeat(64), "SAMPLE_VALUE"];
  // An https URL by pattern (a git host's API root): the same public literal, never reached here.
  candidates.push("https://93.184.216.34/sample");
  const fits = candidates.find(
    (s) => s.length >= min && s.length <= max && (!schema.pattern || new RegExp(schema.pattern).test(s)),
  );
  if (fits === undefined)
    throw new Error(`cannot sample string ${JSON.stringify(schema)}: extend sampleString()`);
  return fits;
}
