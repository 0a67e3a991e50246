import { allRoutes, ERROR_CODES, routeKey } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestKiln, type TestKiln } from "../testing/harness.ts";
import { servedRoutes } from "../testing/served-routes.ts";

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  maxLength?: number;
}

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: Schema }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

interface Document {
  openapi: string;
  info: { title: string; version: string };
  security?: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
// The document itself is hidden on purpose: it describes the API, it is not part of it.
const UNDOCUMENTED = new Set(["GET /api/openapi.json"]);

let kiln: TestKiln;
let doc: Document;
let operations: Array<{ method: string; path: string; op: Operation }>;
beforeAll(async () => {
  kiln = await startTestKiln();
  const res = await kiln.client().get("/api/openapi.json");
  expect(res.statusCode).toBe(200);
  doc = res.json();
  operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}, 60_000);
afterAll(() => kiln?.stop());

const toFastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found);
  else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if (key === "$ref" && typeof v === "string") found.push(v);
      else refsIn(v, found);
    }
  }
  return found;
}

describe("the OpenAPI document", { timeout: 30_000 }, () => {
  it("is OpenAPI 3.1.0 with a title and the server's version", async () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("Kiln API");
    const config = (await kiln.client().get("/api/config")).json();
    expect(doc.info.version).toBe(config.version);
  });

  it("lists every /api route Fastify serves, and nothing it does not", () => {
    const served = servedRoutes(kiln.app).filter((r) => r.url.startsWith("/api/") && r.method !== "HEAD");
    // A parser that silently matched nothing would make the comparison vacuous.
    expect(served.length).toBeGreaterThan(20);
    const documented = new Set(operations.map((o) => `${o.method} ${toFastifyPath(o.path)}`));
    const missing = served
      .map((r) => `${r.method} ${r.url}`)
      .filter((r) => !documented.has(r) && !UNDOCUMENTED.has(r));
    expect(missing).toEqual([]);
    for (const { method, path } of operations) {
      expect(kiln.app.hasRoute({ method, url: toFastifyPath(path) }), `${method} ${path}`).toBe(true);
    }
    for (const hidden of UNDOCUMENTED) {
      const [method, url] = hidden.split(" ") as [string, string];
      expect(kiln.app.hasRoute({ method, url }), hidden).toBe(true);
    }
  });

  it("gives every operation a summary and a tag, and every path parameter a declaration", () => {
    for (const { method, path, op } of operations) {
      const where = `${method} ${path}`;
      expect(op.summary?.trim(), where).toBeTruthy();
      expect(op.tags?.length, where).toBeGreaterThan(0);
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.parameters ?? []).filter((p) => p.in === "path");
      expect(declared.map((p) => p.name).sort(), where).toEqual(inPath);
      for (const p of declared) expect(p.required, `${where} ${p.name}`).toBe(true);
    }
  });

  it("documents an upload's body as bytes of its media type", () => {
    const uploads = allRoutes().filter((route) => route.upload);
    expect(uploads.length).toBeGreaterThan(0);
    for (const route of uploads) {
      const [method, path] = routeKey(route).split(" ") as [string, string];
      const body = doc.paths[path]?.[method.toLowerCase()]?.requestBody;
      expect(Object.keys(body?.content ?? {}), routeKey(route)).toEqual([route.upload]);
      expect(body?.content?.[route.upload!]?.schema, routeKey(route)).toMatchObject({
        type: "string",
        format: "binary",
      });
    }
  });

  it("gives every request body but an upload's a JSON schema whose strings are all bounded", () => {
    const uploads = new Set(
      allRoutes()
        .filter((r) => r.upload)
        .map(routeKey),
    );
    const withBody = operations.filter((o) => o.op.requestBody && !uploads.has(`${o.method} ${o.path}`));
    expect(withBody.length).toBeGreaterThan(5);
    const unbounded: string[] = [];
    const walk = (schema: Schema | undefined, where: string): void => {
      if (!schema) return;
      const types = [schema.type].flat();
      // Unbounded strings let one request fill a column (and the logs) up to the body limit.
      if (
        types.includes("string") &&
        schema.maxLength === undefined &&
        !schema.enum &&
        schema.const === undefined &&
        !schema.pattern
      ) {
        unbounded.push(where);
      }
      for (const [name, child] of Object.entries(schema.properties ?? {})) walk(child, `${where}.${name}`);
      walk(schema.items, `${where}[]`);
      for (const [i, child] of (schema.anyOf ?? []).entries()) walk(child, `${where}|${i}`);
    };
    for (const { method, path, op } of withBody) {
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      expect(schema, `${method} ${path}`).toBeDefined();
      expect(schema?.type === "object" || schema?.$ref !== undefined, `${method} ${path}`).toBe(true);
      expect(op.requestBody?.required, `${method} ${path}`).toBe(true);
      walk(schema, `${method} ${path} body`);
    }
    expect(unbounded).toEqual([]);
  });

  it("documents errors as the ErrorEnvelope, whose codes are the protocol's", () => {
    for (const { method, path, op } of operations) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (!/^4/.test(status)) continue;
        // The model proxy answers a spend budget's refusal in the vendor's own error shape (ADR 0029).
        if (path.startsWith("/v1/") && status === "402") {
          expect(response.content?.["application/json"]?.schema, `${method} ${path} ${status}`).toEqual({
            $ref: `#/components/schemas/${path === "/v1/messages" ? "Anthropic" : "OpenAi"}BudgetError`,
          });
          continue;
        }
        expect(response.content?.["application/json"]?.schema, `${method} ${path} ${status}`).toEqual({
          $ref: "#/components/schemas/ErrorEnvelope",
        });
      }
    }
    const envelope = doc.components.schemas.ErrorEnvelope;
    expect(envelope?.properties?.error?.properties?.code?.enum).toEqual([...ERROR_CODES]);
  });

  it("names the shared schemas as components, and every $ref resolves", () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of [
      "User",
      "Me",
      "Session",
      "ApiToken",
      "Org",
      "Member",
      "Invitation",
      "Project",
      "PublicConfig",
      "ErrorEnvelope",
    ]) {
      expect(names, name).toContain(name);
    }
    const refs = new Set(refsIn(doc));
    expect(refs.size).toBeGreaterThan(0);
    for (const ref of refs) {
      const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
      expect(name && doc.components.schemas[name], ref).toBeTruthy();
    }
  });

  it("says truthfully which operations need credentials", async () => {
    const client = kiln.client();
    expect(doc.security?.length).toBeGreaterThan(0);
    let open = 0;
    for (const { method, path, op } of operations) {
      // Any value will do: credentials are checked before parameters are looked at.
      const url = path.replace(/\{\w+\}/g, "00000000-0000-4000-8000-000000000000");
      const res = await client.request(method as "GET", url);
      // OpenAPI: an empty list, or an empty requirement among the alternatives, means no credentials.
      const security = op.security ?? doc.security ?? [];
      const anonymousAllowed = security.length === 0 || security.some((s) => Object.keys(s).length === 0);
      const where = `${method} ${path}: ${res.statusCode} ${res.body}`;
      if (anonymousAllowed) {
        open++;
        expect(res.statusCode === 401 && res.json().error.code === "unauthenticated", where).toBe(false);
      } else {
        expect(res.statusCode, where).toBe(401);
        expect(res.json().error.code, where).toBe("unauthenticated");
      }
    }
    // Sign-up, log-in, refresh, log-out, the config and invitation previews at least.
    expect(open).toBeGreaterThanOrEqual(6);
  });
});

describe("the route contracts", () => {
  /** Kiln's own API; /v1 (the model proxy) and /git speak OpenAI's, Anthropic's and git's protocols. */
  const served = () =>
    servedRoutes(kiln.app)
      .filter((r) => r.url.startsWith("/api/") && r.method !== "HEAD")
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, "{$1}")}`)
      .filter((key) => !UNDOCUMENTED.has(key));

  it("declare every /api route the server serves, each once, and each is served", () => {
    const declared = allRoutes().map(routeKey);
    expect(new Set(declared).size, "two contracts for one route").toBe(declared.length);
    // Every /api route has a contract…
    expect(served().filter((key) => !declared.includes(key))).toEqual([]);
    // …and every contract is served (/health too, outside /api).
    for (const route of allRoutes()) {
      expect(kiln.app.hasRoute({ method: route.method, url: route.path }), routeKey(route)).toBe(true);
    }
  });

  it("are what the OpenAPI document says: summary, tags, permission, streams and errors", () => {
    for (const route of allRoutes()) {
      const [method, path] = routeKey(route).split(" ") as [string, string];
      const op = doc.paths[path]?.[method.toLowerCase()] as Operation & Record<string, unknown>;
      expect(op, routeKey(route)).toBeDefined();
      expect([op.summary, op.tags], routeKey(route)).toEqual([route.summary, [...route.tags]]);
      expect(op["x-kiln-permission"], routeKey(route)).toBe(route.permission);
      expect(op["x-kiln-others"], routeKey(route)).toBe(route.others);
      expect(op["x-kiln-stream"], routeKey(route)).toBe(route.stream);
      expect(op["x-kiln-errors"], routeKey(route)).toEqual(
        route.errors?.length ? [...route.errors] : undefined,
      );
      const status = String(route.status ?? 200);
      if (route.stream !== "websocket")
        expect(Object.keys(op.responses ?? {}), routeKey(route)).toContain(status);
      // A download is documented under its own media type, not as JSON.
      if (route.produces)
        expect(Object.keys(op.responses?.[status]?.content ?? {}), routeKey(route)).toEqual([route.produces]);
    }
  });

  it("name only the paths' params, and an org's permission on every route under one", () => {
    for (const route of allRoutes()) {
      const names = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      const shape = (route.params as { shape?: Record<string, unknown> } | undefined)?.shape ?? {};
      expect(Object.keys(shape).sort(), routeKey(route)).toEqual([...names].sort());
      if (names.includes("org") && (route.auth ?? "required") === "required") {
        expect(route.permission, routeKey(route)).toBeDefined();
      }
    }
  });
});
