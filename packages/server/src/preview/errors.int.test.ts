import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { ERRORS_PATH } from "./errors-script.ts";

/**
 * Preview errors over real HTTP on the preview host: the reporter script in served pages, the
 * `/__kiln/errors` endpoint's checks, dev server errors from the log, and the runtime/errors API.
 */

let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;
let orgId: string;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  host: string,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    chunks?: Buffer[];
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: { host, ...options.headers },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end(options.body);
  });
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A project with a running dev server and a member's preview cookie. */
async function servedProject(template: string) {
  const created = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Errors", template });
  expect(created.statusCode).toBe(201);
  const { id, slug } = created.json() as { id: string; slug: string };
  const session = new URL(
    (await owner.client.post(`/api/orgs/${org}/projects/${slug}/preview-session`)).json().url,
  );
  const host = session.host;
  const auth = await request(host, session.pathname + session.search);
  const cookie = auth.headers["set-cookie"]!.map((c) => c.split(";")[0]).join("; ");
  await until("the dev server", async () => {
    const page = await request(host, "/", { headers: { cookie, accept: "text/html" } });
    return page.status === 200 ? page : undefined;
  });
  return { id, slug, host, cookie, api: `/api/orgs/${org}/projects/${slug}` };
}

function report(
  p: { host: string; cookie: string },
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return request(p.host, ERRORS_PATH, {
    method: "POST",
    headers: {
      cookie: p.cookie,
      origin: `http://${p.host}`,
      "content-type": "application/json",
      "sec-fetch-site": "same-origin",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

beforeAll(async () => {
  kiln = await startTestKiln();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("errs");
  const created = await owner.client.post("/api/orgs", { name: "Errors", slug: org });
  expect(created.statusCode).toBe(201);
  orgId = created.json().id;
}, 120_000);

afterAll(() => kiln?.stop());

describe("preview error reporting", () => {
  it("puts the reporter script into pages only, keeping Content-Length right", async () => {
    const p = await servedProject("static");
    const page = await request(p.host, "/", { headers: { cookie: p.cookie, accept: "text/html,*/*" } });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/^<!doctype html>\s*<html[^>]*>\s*<head[^>]*><script data-kiln="errors">/i);
    expect(Number(page.headers["content-length"])).toBe(Buffer.byteLength(page.body));
    const css = await request(p.host, "/style.css", {
      headers: { cookie: p.cookie, accept: "text/html,*/*" },
    });
    expect(css.body).not.toContain("data-kiln");
    const fetched = await request(p.host, "/", { headers: { cookie: p.cookie, accept: "*/*" } });
    expect(fetched.body).not.toContain('data-kiln="errors"');
    const head = await request(p.host, "/", {
      method: "HEAD",
      headers: { cookie: p.cookie, accept: "text/html" },
    });
    expect(head.body).toBe("");
  });

  it("records a valid report, serves it from the API, and clears it", async () => {
    const p = await servedProject("static");
    const ok = await report(p, {
      kind: "error",
      message: "TypeError: x is not a function",
      stack: "TypeError: x is not a function\n    at onClick (http://x/src/App.tsx:3:5)",
      url: "http://x/src/App.tsx",
      line: 3,
      col: 5,
      page: "/",
    });
    expect(ok.status).toBe(204);
    expect(
      (
        await report(p, {
          kind: "error",
          message: "TypeError: x is not a function",
          url: "http://x/src/App.tsx",
          line: 3,
          col: 5,
        })
      ).status,
    ).toBe(204);
    expect((await report(p, { kind: "unhandledrejection", message: "nope" })).status).toBe(204);

    const recent = kiln.services.previewErrors.recent(orgId, p.id);
    expect(recent.map((e) => [e.source, e.kind, e.message, e.count])).toEqual([
      ["browser", "error", "TypeError: x is not a function", 2],
      ["browser", "unhandledrejection", "nope", 1],
    ]);
    const listed = await owner.client.get(`${p.api}/runtime/errors`);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().errors[0]).toMatchObject({
      line: 3,
      column: 5,
      page: "/",
      detail: expect.stringContaining("onClick"),
    });
    expect((await owner.client.delete(`${p.api}/runtime/errors`)).statusCode).toBe(200);
    expect((await owner.client.get(`${p.api}/runtime/errors`)).json().errors).toEqual([]);
  });

  it("refuses garbage, oversized, cross-origin and anonymous reports with a 4xx, storing nothing", async () => {
    const p = await servedProject("static");
    const valid = { kind: "error", message: "boom" };
    const cases: Array<[string, Promise<Answer>, number]> = [
      ["GET", request(p.host, ERRORS_PATH, { headers: { cookie: p.cookie } }), 405],
      ["no cookie", report({ ...p, cookie: "" }, valid), 401],
      ["forged cookie", report({ ...p, cookie: "kiln_preview=forged" }, valid), 401],
      ["no origin", report(p, valid, { origin: "" }), 403],
      ["other preview's origin", report(p, valid, { origin: `http://other--${org}.localhost:4000` }), 403],
      ["cross-site fetch", report(p, valid, { "sec-fetch-site": "same-site" }), 403],
      [
        "form post",
        report(p, "kind=error&message=x", { "content-type": "application/x-www-form-urlencoded" }),
        415,
      ],
      ["text/plain", report(p, JSON.stringify(valid), { "content-type": "text/plain" }), 415],
      ["not JSON", report(p, "{nope"), 400],
      ["JSON array", report(p, "[]"), 400],
      ["unknown kind", report(p, { kind: "virus", message: "x" }), 400],
      ["extra field", report(p, { ...valid, extra: 1 }), 400],
      ["proto", report(p, '{"kind":"error","message":"x","__proto__":{"polluted":1}}'), 400],
      ["empty message", report(p, { kind: "error", message: "" }), 400],
      ["long message", report(p, { kind: "error", message: "x".repeat(2001) }), 400],
      ["huge line", report(p, { ...valid, line: 1e12 }), 400],
      ["oversized", report(p, { ...valid, stack: "x".repeat(20_000) }), 413],
      [
        "oversized, chunked",
        request(p.host, ERRORS_PATH, {
          method: "POST",
          headers: {
            cookie: p.cookie,
            origin: `http://${p.host}`,
            "content-type": "application/json",
            "transfer-encoding": "chunked",
          },
          chunks: Array.from({ length: 40 }, () => Buffer.alloc(1024, 32)),
        }),
        413,
      ],
    ];
    for (const [name, answer, status] of cases) {
      const res = await answer;
      expect(res.status, `${name}: ${res.body.slice(0, 200)}`).toBe(status);
    }
    expect(kiln.services.previewErrors.recent(orgId, p.id)).toEqual([]);
  });

  it("clears a page's errors when that page says it loaded cleanly, from its own origin only", async () => {
    const p = await servedProject("static");
    expect((await report(p, { kind: "error", message: "half-done edit", page: "/" })).status).toBe(204);
    const other = { origin: `http://other--${org}.localhost:4000` };
    expect((await report(p, { kind: "loaded", page: "/" }, other)).status).toBe(403);
    expect((await report(p, { kind: "loaded", page: "/", message: "x" })).status).toBe(400);
    expect(kiln.services.previewErrors.recent(orgId, p.id).map((e) => e.message)).toEqual(["half-done edit"]);
    expect((await report(p, { kind: "loaded", page: "/" })).status).toBe(204);
    expect(kiln.services.previewErrors.recent(orgId, p.id)).toEqual([]);
    // Its dev server is not needed any more (the machine runs the other tests' too).
    expect((await owner.client.delete(p.api)).statusCode).toBe(200);
  });

  it("rate-limits reports per project", async () => {
    const p = await servedProject("static");
    const statuses: number[] = [];
    for (let i = 0; i < 62; i++)
      statuses.push((await report(p, { kind: "console", message: `log ${i}` })).status);
    expect(statuses.slice(0, 60).every((s) => s === 204)).toBe(true);
    expect(statuses.slice(60)).toEqual([429, 429]);
    expect(kiln.services.previewErrors.recent(orgId, p.id)).toHaveLength(50);
  });

  it("serves public previews to anyone, but only members' pages get the script or may report", async () => {
    const p = await servedProject("static");
    expect((await owner.client.patch(p.api, { previewPublic: true })).statusCode).toBe(200);
    kiln.services.preview.invalidate();
    const page = await request(p.host, "/", { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('data-kiln="errors"');
    expect(page.body).not.toContain('data-kiln="picker"');
    expect((await report({ ...p, cookie: "" }, { kind: "error", message: "spoofed" })).status).toBe(403);
    const member = await request(p.host, "/", { headers: { accept: "text/html", cookie: p.cookie } });
    expect(member.body).toContain('data-kiln="errors"');
    // The element picker rides along, answering only the studio's origin.
    expect(member.body).toContain('data-kiln="picker"');
    expect(member.body).toContain(JSON.stringify(new URL(kiln.config.publicUrl).origin));
    expect((await report(p, { kind: "error", message: "real" })).status).toBe(204);
    expect(kiln.services.previewErrors.recent(orgId, p.id).map((e) => e.message)).toEqual(["real"]);
  });

  it("picks runtime errors out of the dev server's output", async () => {
    const p = await servedProject("node-api");
    const write = await owner.client.put(`${p.api}/files/content`, {
      path: "server.js",
      content: 'throw new TypeError("kiln-int boom");\n',
    });
    expect(write.statusCode).toBe(200);
    const found = await until("the crash in the log", () =>
      kiln.services.previewErrors.recent(orgId, p.id).find((e) => e.message.includes("kiln-int boom")),
    );
    expect(found).toMatchObject({ source: "server", kind: "log", message: "TypeError: kiln-int boom" });
    expect(found.detail).toContain("server.js:1");
  });
});
