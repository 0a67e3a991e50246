import { randomUUID } from "node:crypto";
import { ACCESS_COOKIE, type ErrorCode, ErrorEnvelope } from "@kiln/protocol";
import { eq, is, sql } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import * as sharedSchema from "../db/schema-shared.ts";
import { orgs } from "../db/schema-shared.ts";
import { projects } from "../db/schema-tenant.ts";
import { startTestKiln, type TestKiln, uniqueEmail, uniqueSlug } from "../testing/harness.ts";

/**
 * Hostile input against every operation in the app's own OpenAPI document, so a route added tomorrow is
 * attacked too. Every answer must be a 4xx in the error envelope (or, for input that is merely odd, a
 * success that stores it verbatim) and never a 5xx.
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
}

interface Op {
  method: string;
  path: string;
  params: string[];
  body: Schema | undefined;
  anonymous: boolean;
}

interface Expected {
  status: readonly number[];
  codes?: readonly ErrorCode[];
  /** Odd but harmless input may succeed; then this checks the success. */
  success?: (body: unknown) => string | undefined;
}

const BODY_LIMIT = 4096;
const INVALID: Expected = { status: [400], codes: ["validation_failed"] };
const SQL = "x'); DROP TABLE users;--";
const REFUSED = [400, 401, 403, 404, 409] as const;
const GARBAGE_PARAMS = [
  "%00",
  "a%00b",
  "..%2F..%2Fetc",
  "..%2F..%2F..%2Fetc%2Fpasswd",
  "a".repeat(1000),
  encodeURIComponent("' OR 1=1 --"),
  encodeURIComponent("ünïcødé-名前-😀-\u202e"),
  "%E0%A4%A", // truncated percent-encoding
  "%F0%9F", // incomplete UTF-8 sequence
  "%20",
  "__proto__",
  "constructor",
];

let kiln: TestKiln;
let bearer: string;
let ops: Op[];
let components: Record<string, Schema>;
/** Real values for path parameters, so only the one under attack is wrong. */
const params: Record<string, string> = {};
let sentinel: { org: typeof orgs.$inferSelect; projects: Array<typeof projects.$inferSelect> };
let target: { orgId: string; orgSlug: string; projectId: string };

beforeAll(async () => {
  kiln = await startTestKiln({ env: { KILN_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
  const main = await kiln.signup();
  bearer = main.client.cookies.get(ACCESS_COOKIE)!.value;
  const c = main.client;
  const ok = async (res: Promise<LightMyRequestResponse>) => {
    const r = await res;
    if (r.statusCode >= 300) throw new Error(`setup failed: ${r.statusCode} ${r.body}`);
    return r.json();
  };

  const org = await ok(c.post("/api/orgs", { name: "Target", slug: uniqueSlug("target") }));
  const project = await ok(c.post(`/api/orgs/${org.slug}/projects`, { name: "Target project" }));
  const token = await ok(c.post("/api/auth/tokens", { name: "probe" }));
  const invitation = await ok(c.post(`/api/orgs/${org.slug}/invitations`, { email: uniqueEmail("invitee") }));
  Object.assign(params, {
    org: org.slug,
    project: project.slug,
    userId: main.user.id,
    tokenId: token.id,
    invitationId: invitation.id,
    token: new URL(invitation.url).pathname.split("/").pop()!,
  });
  params.sha = (await ok(c.get(`/api/orgs/${org.slug}/projects/${project.slug}/history`))).checkpoints[0].sha;
  const board = `/api/orgs/${org.slug}/projects/${project.slug}`;
  const task = await ok(c.post(`${board}/tasks`, { title: "Target task" }));
  Object.assign(params, {
    taskId: task.id,
    commentId: (await ok(c.post(`${board}/tasks/${task.id}/comments`, { body: "Target comment" }))).id,
    statusId: (await ok(c.get(`${board}/workflow`))).statuses.at(-1).id,
    ruleId: (await ok(c.get(`${board}/automation/rules`)))[0].id,
  });
  target = { orgId: org.id, orgSlug: org.slug, projectId: project.id };
  const job = { kind: "fix", instructions: "x" };
  params.jobId = (await ok(c.post(`/api/orgs/${org.slug}/projects/${project.slug}/jobs`, job))).id;
  params.workerTokenId = (await ok(c.post(`/api/orgs/${org.slug}/workers/tokens`, { name: "probe" }))).id;
  params.variable = (await ok(c.put(`${board}/env`, { name: "TARGET_VAR", value: "x" }))).variable.name;

  // A second org the barrage never names: it must come out byte-for-byte the same.
  const other = await ok(c.post("/api/orgs", { name: "Sentinel", slug: uniqueSlug("sentinel") }));
  await ok(c.post(`/api/orgs/${other.slug}/projects`, { name: "Sentinel project", description: "keep" }));
  sentinel = await snapshot(other.id);

  const doc = (await kiln.client().get("/api/openapi.json")).json();
  components = doc.components.schemas;
  ops = [];
  for (const [path, item] of Object.entries<Record<string, Record<string, unknown>>>(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "put", "post", "patch", "delete"].includes(method)) continue;
      const body = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)
        ?.content?.["application/json"]?.schema;
      const security = (op.security ?? doc.security ?? []) as Array<Record<string, unknown>>;
      ops.push({
        method: method.toUpperCase(),
        path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        body: body && deref(body),
        anonymous: security.length === 0 || security.some((s) => Object.keys(s).length === 0),
      });
    }
  }
}, 60_000);
afterAll(() => kiln?.stop());

async function snapshot(orgId: string) {
  const [org] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, orgId));
  const rows = await kiln.database.tenant(org!.schemaName, (tx) => tx.select().from(projects));
  return { org: org!, projects: rows };
}

function deref(schema: Schema): Schema {
  const name = schema.$ref?.replace("#/components/schemas/", "");
  return name ? deref(components[name]!) : schema;
}

const typesOf = (s: Schema) => [s.type, ...(s.anyOf ?? []).map((a) => deref(a).type)].flat();

/** A value the schema accepts; fresh each call, so slugs and emails never collide. */
function validValue(raw: Schema, where: string): unknown {
  const s = deref(raw);
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const type = typesOf(s).find((t) => t && t !== "null");
  if (type === "string") {
    if (s.format === "email") return uniqueEmail("probe");
    if (s.format === "uuid") return randomUUID();
    if (s.pattern) {
      const slug = uniqueSlug("probe");
      if (new RegExp(s.pattern).test(slug)) return slug;
      const digest = "0".repeat(64); // a SHA-256 hex (file versions)
      if (new RegExp(s.pattern).test(digest)) return digest;
      const code = "000000"; // a mailed verification code
      if (new RegExp(s.pattern).test(code)) return code;
      const envName = "PROBE_VALUE"; // an environment variable's name
      if (new RegExp(s.pattern).test(envName)) return envName;
      // An https URL (a git host's API root) on a reserved name that never resolves: nothing is sent.
      const url = "https://kiln-probe.invalid/api";
      if (new RegExp(s.pattern).test(url)) return url;
      throw new Error(`teach validValue a value for ${where} (pattern ${s.pattern})`);
    }
    return "valid value".padEnd(s.minLength ?? 0, "x").slice(0, s.maxLength ?? 100);
  }
  if (type === "integer" || type === "number") return s.minimum ?? 1;
  if (type === "boolean") return true;
  if (type === "array") return [];
  if (type === "object") return validObject(s, "required", where);
  // A nullable named union (a task's assignee): the first variant of the union.
  const union = s.anyOf?.map(deref).find((v) => v.type !== "null");
  if (union?.anyOf?.[0]) return validValue(union.anyOf[0], where);
  throw new Error(`teach validValue about ${where}: ${JSON.stringify(s)}`);
}

function validObject(s: Schema, which: "required" | "all", where: string): Record<string, unknown> {
  const keys = Object.keys(s.properties ?? {}).filter((k) => which === "all" || s.required?.includes(k));
  return Object.fromEntries(keys.map((k) => [k, validValue(s.properties![k]!, `${where}.${k}`)]));
}

/** A parameter this file has no real value for (a route added later) gets a well-formed, unknown id. */
function urlFor(op: Op, override: Record<string, string> = {}): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => override[name] ?? params[name] ?? randomUUID());
}

async function send(
  method: string,
  url: string,
  opts: { payload?: string; contentType?: string; authorization?: string | null; cookie?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (opts.authorization !== null) headers.authorization = opts.authorization ?? `Bearer ${bearer}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.contentType) headers["content-type"] = opts.contentType;
  return kiln.app.inject({
    method: method as "GET",
    url,
    headers,
    ...(opts.payload === undefined ? {} : { payload: opts.payload }),
  });
}

/** What is wrong with a response, or undefined when it is as expected. */
function problemWith(res: LightMyRequestResponse, expected: Expected): string | undefined {
  if (res.statusCode >= 500) return "server error";
  if (res.statusCode < 300 && expected.success) return expected.success(res.json());
  if (!expected.status.includes(res.statusCode)) return `status not in ${expected.status.join("/")}`;
  if (!String(res.headers["content-type"]).startsWith("application/json")) return "not JSON";
  const body = res.json();
  const envelope = ErrorEnvelope.safeParse(body);
  if (!envelope.success || Object.keys(body).length !== 1) return "not an error envelope with a known code";
  if (expected.codes && !expected.codes.includes(envelope.data.error.code)) {
    return `code not in ${expected.codes.join("/")}`;
  }
  return undefined;
}

function strings(value: unknown, key?: string, found: Array<[string | undefined, string]> = []) {
  if (typeof value === "string") found.push([key, value]);
  else if (Array.isArray(value)) for (const v of value) strings(v, key, found);
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) strings(v, k, found);
  return found;
}

/** Stored verbatim: wherever the response shows the field, it shows exactly what was sent. */
const echoed =
  (field: string, sent: string) =>
  (body: unknown): string | undefined => {
    const shown = strings(body).filter(([k]) => k === field);
    return shown.length === 0 || shown.some(([, v]) => v === sent)
      ? undefined
      : `${field} not stored verbatim`;
  };

/**
 * Operations that carry file contents set their own, larger body limit (the file size cap decides there), so a
 * body over KILN_BODY_LIMIT_BYTES is merely large for them: refused by its schema, or accepted.
 */
const RAISED_BODY_LIMIT = new Set([
  "PUT /api/orgs/{org}/projects/{project}/files/content",
  // MCP's write_file takes file contents too.
  "POST /mcp",
  // The model proxy takes whole conversations.
  "POST /v1/chat/completions",
  "POST /v1/messages",
]);

const sizeAware = (payload: string, raised: boolean): Expected =>
  raised
    ? { status: [400, 413], codes: ["validation_failed", "payload_too_large"], success: () => undefined }
    : Buffer.byteLength(payload) > BODY_LIMIT
      ? { status: [413], codes: ["payload_too_large"] }
      : INVALID;

interface Case {
  name: string;
  payload: string;
  contentType?: string;
  expected: Expected;
}

const JSON_TYPE = "application/json";
const POISON = ['{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}'];
const POISON_CODES: ErrorCode[] = ["invalid_json", "bad_request"];

/** Bodies no operation may accept, whatever its schema; they fail before any handler runs. */
function unparseableCases(raised = false): Case[] {
  return [
    { name: "malformed JSON", payload: "{bad", expected: { status: [400], codes: ["invalid_json"] } },
    { name: "empty JSON body", payload: "", expected: { status: [400], codes: ["invalid_json"] } },
    ...POISON.map((payload) => ({
      name: payload,
      payload,
      expected: { status: [400], codes: POISON_CODES },
    })),
    {
      name: "form-urlencoded",
      payload: "name=x&slug=y",
      contentType: "application/x-www-form-urlencoded",
      expected: { status: [415], codes: ["unsupported_media_type"] },
    },
    {
      name: "body over KILN_BODY_LIMIT_BYTES",
      payload: JSON.stringify({ pad: "x".repeat(BODY_LIMIT) }),
      expected: raised ? INVALID : { status: [413], codes: ["payload_too_large"] },
    },
  ];
}

function bodyCases(schema: Schema, where: string, raised = false): Case[] {
  const base = () => validObject(schema, "required", where);
  const json = (extra: Record<string, unknown>) => JSON.stringify({ ...base(), ...extra });
  const cases: Case[] = [...unparseableCases(raised)];
  for (const payload of ["[]", '"x"', "42", "null"]) {
    cases.push({
      name: `JSON ${payload}`,
      payload,
      expected: INVALID,
    });
  }
  cases.push({
    name: "unknown extra field",
    payload: json({ kilnUnknownField: 1 }),
    expected: INVALID,
  });
  for (const poison of POISON) {
    const valid = JSON.stringify(base());
    const payload = valid === "{}" ? poison : `${poison.slice(0, -1)},${valid.slice(1)}`;
    cases.push({
      name: `valid body with ${poison}`,
      payload,
      expected: { status: [400], codes: POISON_CODES },
    });
  }
  // text/plain is one of the content types a cross-site form may send without a preflight.
  cases.push({
    name: "text/plain",
    payload: JSON.stringify(base()),
    contentType: "text/plain",
    expected: { status: [400, 415], codes: ["validation_failed", "unsupported_media_type"] },
  });
  for (const [field, raw] of Object.entries(schema.properties ?? {})) {
    const prop = deref(raw);
    if (!typesOf(prop).includes("string")) continue;
    const tooLong = "x".repeat(prop.maxLength === undefined ? 3000 : prop.maxLength + 1);
    const big = json({ [field]: "x".repeat(10 * 1024) });
    const over = json({ [field]: tooLong });
    // Odd but harmless: refused, or accepted (SQL must then be stored verbatim, not executed).
    const oddButHarmless = (check: Expected["success"] = () => undefined): Expected => ({
      status: REFUSED,
      success: check,
    });
    cases.push(
      {
        name: `${field}: number`,
        payload: json({ [field]: 12345 }),
        // A field that is a string or a number (a JSON-RPC id) takes one.
        expected: typesOf(prop).some((t) => t === "number" || t === "integer") ? oddButHarmless() : INVALID,
      },
      { name: `${field}: 10 KB string`, payload: big, expected: sizeAware(big, raised) },
      { name: `${field}: ${tooLong.length} characters`, payload: over, expected: sizeAware(over, raised) },
      {
        name: `${field}: SQL`,
        payload: json({ [field]: SQL }),
        expected: oddButHarmless(echoed(field, SQL)),
      },
      {
        name: `${field}: NUL character`,
        payload: json({ [field]: "nul\u0000inside-this-value" }),
        expected: oddButHarmless(),
      },
      {
        name: `${field}: lone surrogate`,
        payload: json({ [field]: "lone\ud800surrogate-value" }),
        expected: oddButHarmless(),
      },
    );
  }
  return cases;
}

/** Sends an operation's cases all at once (each is refused; they wait on the database more than on the CPU). */
async function runCases(op: Op, cases: Case[], authorization: string, problems: string[]): Promise<number> {
  await Promise.all(
    cases.map(async (c) => {
      const res = await send(op.method, urlFor(op), {
        payload: c.payload,
        contentType: c.contentType ?? JSON_TYPE,
        authorization,
      });
      const problem = problemWith(res, c.expected);
      if (problem)
        problems.push(
          `${op.method} ${op.path} [${c.name}]: ${problem} — ${res.statusCode} ${res.body.slice(0, 160)}`,
        );
    }),
  );
  return cases.length;
}

// The sweeps grow with every route: their time limit is the suite's guard against a hang, not a benchmark.
describe("hostile input", { timeout: 120_000 }, () => {
  it("the document offers enough operations to attack", () => {
    expect(ops.filter((o) => o.body).length).toBeGreaterThanOrEqual(5);
    expect(ops.filter((o) => o.params.length > 0).length).toBeGreaterThanOrEqual(10);
  });

  it("every operation with a body refuses malformed, mistyped and oversized bodies", async () => {
    const problems: string[] = [];
    let sent = 0;
    for (const op of ops.filter((o) => o.body)) {
      sent += await runCases(
        op,
        bodyCases(op.body!, `${op.method} ${op.path}`, RAISED_BODY_LIMIT.has(`${op.method} ${op.path}`)),
        `Bearer ${bearer}`,
        problems,
      );
    }
    expect(problems.sort()).toEqual([]);
    expect(sent).toBeGreaterThan(100);
    // Poisoned bodies were refused, and nothing reached the prototype of this process's objects either.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("operations without a body still refuse bodies that cannot be parsed", async () => {
    // A throwaway session: were a body to slip through, log-out and the like would only touch this one.
    const throwaway = await kiln.signup();
    const auth = `Bearer ${throwaway.client.cookies.get(ACCESS_COOKIE)!.value}`;
    const problems: string[] = [];
    // DELETE is left out: its body has no meaning, and a server that ignored it would really delete.
    const bodiless = ops.filter((o) => !o.body && ["POST", "PUT", "PATCH"].includes(o.method));
    expect(bodiless.length).toBeGreaterThan(0);
    for (const op of bodiless) await runCases(op, unparseableCases(), auth, problems);
    expect(problems).toEqual([]);
  });

  it("every path parameter refuses garbage", async () => {
    const problems: string[] = [];
    // Every garbage value of a parameter at once (the requests wait on the database more than on the CPU).
    for (const op of ops.filter((o) => o.params.length > 0)) {
      for (const name of op.params) {
        // A full, valid body, so only the parameter can be the reason for a refusal.
        const body = op.body ? JSON.stringify(validObject(op.body, "all", op.path)) : undefined;
        await Promise.all(
          GARBAGE_PARAMS.map(async (garbage) => {
            const res = await send(op.method, urlFor(op, { [name]: garbage }), {
              ...(body === undefined ? {} : { payload: body, contentType: JSON_TYPE }),
            });
            // 414: Fastify's answer to a parameter longer than its maxParamLength.
            const problem = problemWith(res, { status: [400, 404, 414] });
            if (problem) {
              problems.push(
                `${op.method} ${op.path} [${name}=${garbage.slice(0, 30)}]: ${problem} — ${res.statusCode} ${res.body.slice(0, 160)}`,
              );
            }
          }),
        );
      }
    }
    expect(problems.sort()).toEqual([]);
  });

  it("garbage and forged credentials are refused on every operation that needs them", async () => {
    const [header, payload] = bearer.split(".") as [string, string];
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const forged = [
      { authorization: `Bearer ${b64({ alg: "none", typ: "JWT" })}.${payload}.` },
      {
        authorization: `Bearer ${header}.${b64({ ...claims, exp: claims.exp + 86_400 })}.${bearer.split(".")[2]}`,
      },
      { authorization: `Bearer ${encodeURIComponent(SQL)}` },
      { authorization: `Bearer kiln_pat_' OR '1'='1` },
      { authorization: `Bearer kiln_pat_${"a".repeat(5000)}` },
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: null, cookie: `${ACCESS_COOKIE}=${encodeURIComponent(SQL)}` },
    ];
    const problems: string[] = [];
    const guarded = ops.filter((o) => !o.anonymous);
    expect(guarded.length).toBeGreaterThan(10);
    for (const op of guarded) {
      for (const credentials of forged) {
        const res = await send(op.method, urlFor(op), credentials);
        const problem = problemWith(res, {
          status: [401],
          codes: ["token_invalid", "unauthenticated", "token_expired"],
        });
        if (problem)
          problems.push(
            `${op.method} ${op.path} [${JSON.stringify(credentials).slice(0, 60)}]: ${problem} — ${res.statusCode}`,
          );
      }
    }
    expect(problems).toEqual([]);
  });

  it("unknown routes and unknown methods answer 404 or 405 in the envelope", async () => {
    const problems: string[] = [];
    const check = async (method: string, url: string, payload?: string) => {
      const res = await send(method, url, payload === undefined ? {} : { payload, contentType: JSON_TYPE });
      const problem = problemWith(res, {
        status: [404, 405],
        codes: ["route_not_found", "method_not_allowed"],
      });
      if (problem)
        problems.push(`${method} ${url}: ${problem} — ${res.statusCode} ${res.body.slice(0, 160)}`);
    };
    await check("GET", "/api/does-not-exist");
    await check("POST", "/api/does-not-exist", JSON.stringify({ name: "x" }));
    await check("GET", `/api/orgs/${params.org}/does-not-exist`);
    await check("GET", "/API/ORGS");
    const documented = new Map<string, Set<string>>();
    for (const op of ops) documented.set(op.path, (documented.get(op.path) ?? new Set()).add(op.method));
    for (const [path, methods] of documented) {
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
        if (!methods.has(method)) await check(method, urlFor({ path } as Op));
      }
    }
    expect(problems).toEqual([]);
    const res = await send("GET", "/api/does-not-exist");
    expect(res.json().error.code).toBe("route_not_found");
  });

  it("the database is intact afterwards", async () => {
    // Every shared table still exists.
    for (const table of Object.values<unknown>(sharedSchema).filter((v): v is PgTable => is(v, PgTable))) {
      const name = getTableConfig(table).name;
      const [row] = await query<{ t: string | null }>(
        kiln.database.db,
        sql`SELECT to_regclass(${`public.${name}`}) AS t`,
      );
      expect(row?.t, name).not.toBeNull();
    }
    // The org and project nobody named are exactly as they were.
    expect(await snapshot(sentinel.org.id)).toEqual(sentinel);
    // The ones under attack still exist under their ids and slugs (the names may hold verbatim SQL).
    const org = await kiln.database.db.select().from(orgs).where(eq(orgs.id, target.orgId));
    expect(org).toHaveLength(1);
    expect(org[0]!.slug).toBe(target.orgSlug);
    const project = await send("GET", `/api/orgs/${target.orgSlug}/projects/${target.projectId}`);
    expect(project.statusCode).toBe(200);
    expect(project.json().slug).toBe(params.project);
    // The session used throughout still works, and every org still has its schema.
    expect((await send("GET", "/api/auth/me")).statusCode).toBe(200);
    const orphans = await query(
      kiln.database.db,
      sql`SELECT o.id FROM orgs o WHERE NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = o.schema_name)`,
    );
    expect(orphans).toEqual([]);
  });
});
