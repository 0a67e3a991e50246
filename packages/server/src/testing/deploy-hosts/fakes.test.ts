import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeCloudflare, startFakeCloudflare } from "./cloudflare-pages.ts";
import { type FakeNetlify, startFakeNetlify } from "./netlify.ts";
import { type FakeVercel, startFakeVercel } from "./vercel.ts";

/**
 * The fake deploy hosts are only worth their tests if they refuse what the real APIs refuse: a wrong token,
 * a digest that does not match the bytes, a file never uploaded, bad JSON, the wrong content type, unknown
 * fields, an oversized body.
 */

const TOKEN = "token-0123456789";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const sha1 = (b: Buffer) => createHash("sha1").update(b).digest("hex");
const page = Buffer.from("<h1>hi</h1>");

let vercel: FakeVercel;
let netlify: FakeNetlify;
let cloudflare: FakeCloudflare;

beforeAll(async () => {
  vercel = await startFakeVercel({ token: TOKEN, maxBody: 1024 });
  netlify = await startFakeNetlify({ token: TOKEN, maxBody: 1024 });
  cloudflare = await startFakeCloudflare({ token: TOKEN, accountId: ACCOUNT, maxBody: 4096 });
});
afterAll(async () => {
  await Promise.all([vercel?.close(), netlify?.close(), cloudflare?.close()]);
});

async function call(url: string, init: RequestInit & { token?: string | null } = {}) {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set("authorization", `Bearer ${init.token ?? TOKEN}`);
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

describe("the fake Vercel", () => {
  const upload = (bytes: Buffer, digest: string, token?: string) =>
    call(`${vercel.url}/v2/files`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "x-vercel-digest": digest },
      body: bytes,
      ...(token ? { token } : {}),
    });

  it("refuses a wrong token, a digest that does not match, and an oversized file", async () => {
    expect((await upload(page, sha1(page), "wrong")).status).toBe(403);
    expect((await upload(page, sha1(Buffer.from("other")))).json.error.code).toBe("invalid_digest");
    expect((await upload(page, "not-a-digest")).json.error.code).toBe("missing_digest");
    const big = Buffer.alloc(2048, 1);
    expect((await upload(big, sha1(big))).status).toBe(413);
    expect((await upload(page, sha1(page))).status).toBe(200);
  });

  it("answers missing_files for a file never uploaded, and refuses bad JSON and unknown fields", async () => {
    const other = Buffer.from("never uploaded");
    const files = [{ file: "a.txt", sha: sha1(other), size: other.length }];
    const missing = await call(`${vercel.url}/v13/deployments`, json({ name: "site", files }));
    expect([missing.status, missing.json.error.code, missing.json.error.missing]).toEqual([
      400,
      "missing_files",
      [sha1(other)],
    ]);
    const bad = await call(`${vercel.url}/v13/deployments`, { ...json({}), body: "{nope" });
    expect([bad.status, bad.json.error.code]).toEqual([400, "bad_request"]);
    const extra = await call(`${vercel.url}/v13/deployments`, json({ name: "site", files, regions: ["x"] }));
    expect(extra.json.error.message).toContain("additional property");
    const traversal = await call(
      `${vercel.url}/v13/deployments`,
      json({ name: "site", files: [{ file: "../x", sha: sha1(page), size: page.length }] }),
    );
    expect(traversal.status).toBe(400);
    const ok = await call(
      `${vercel.url}/v13/deployments`,
      json({ name: "site", files: [{ file: "index.html", sha: sha1(page), size: page.length }] }),
    );
    expect([ok.status, ok.json.readyState]).toEqual([200, "QUEUED"]);
  });
});

describe("the fake Netlify", () => {
  it("refuses a wrong token, unknown sites, files not in the deploy, wrong types and wrong digests", async () => {
    expect((await call(`${netlify.url}/api/v1/sites`, { ...json({ name: "a" }), token: "x" })).status).toBe(
      401,
    );
    const site = await call(`${netlify.url}/api/v1/sites`, json({ name: "strict-site" }));
    expect(site.status).toBe(201);
    expect((await call(`${netlify.url}/api/v1/sites`, json({ name: "strict-site" }))).status).toBe(422);
    expect((await call(`${netlify.url}/api/v1/sites/nope/deploys`, json({ files: {} }))).status).toBe(404);
    const deploys = `${netlify.url}/api/v1/sites/${site.json.id}/deploys`;
    expect((await call(deploys, json({ files: { "no-slash": sha1(page) } }))).status).toBe(422);
    expect((await call(deploys, json({ files: {}, surprise: true }))).status).toBe(422);
    const deploy = await call(deploys, json({ files: { "/index.html": sha1(page) } }));
    expect(deploy.json.required).toEqual([sha1(page)]);
    const put = (path: string, body: Buffer, type = "application/octet-stream") =>
      call(`${netlify.url}/api/v1/deploys/${deploy.json.id}/files/${path}`, {
        method: "PUT",
        headers: { "content-type": type },
        body,
      });
    expect((await put("index.html", page, "text/html")).status).toBe(415);
    expect((await put("other.html", page)).status).toBe(422);
    expect((await put("index.html", Buffer.from("tampered"))).status).toBe(422);
    expect((await put("index.html", page)).status).toBe(200);
    const state = await call(`${netlify.url}/api/v1/deploys/${deploy.json.id}`, { method: "GET" });
    expect(state.json.required).toEqual([]);
  });
});

describe("the fake Cloudflare Pages", () => {
  const projects = () => `${cloudflare.url}/accounts/${ACCOUNT}/pages/projects`;

  it("answers in its envelope and refuses a wrong token, another account and bad names", async () => {
    const wrong = await call(projects(), { ...json({ name: "p" }), token: "x" });
    expect([wrong.status, wrong.json.success, wrong.json.errors[0].code]).toEqual([401, false, 10000]);
    const other = await call(
      `${cloudflare.url}/accounts/ffffffffffffffffffffffffffffffff/pages/projects`,
      json({ name: "p" }),
    );
    expect(other.status).toBe(403);
    expect((await call(projects(), json({ name: "Bad_Name" }))).status).toBe(400);
    expect((await call(`${projects()}/nope/upload-token`, { method: "GET" })).json.errors[0].code).toBe(
      8000007,
    );
  });

  it("takes assets only with the upload JWT, and a deployment only of uploaded assets", async () => {
    expect((await call(projects(), json({ name: "strict", production_branch: "main" }))).json.success).toBe(
      true,
    );
    const jwt = (await call(`${projects()}/strict/upload-token`, { method: "GET" })).json.result
      .jwt as string;
    const asset = (path: string, body: unknown, token: string | undefined = jwt) =>
      call(`${cloudflare.url}/pages/assets/${path}`, { ...json(body), ...(token ? { token } : {}) });
    expect((await asset("check-missing", { hashes: ["a".repeat(32)] }, TOKEN)).status).toBe(401);
    expect((await asset("check-missing", { hashes: ["short"] })).status).toBe(400);
    expect((await asset("check-missing", { hashes: ["a".repeat(32)] })).json.result).toEqual([
      "a".repeat(32),
    ]);
    const value = page.toString("base64");
    expect(
      (
        await asset("upload", [
          { key: "a".repeat(32), value, base64: false, metadata: { contentType: "text/html" } },
        ])
      ).status,
    ).toBe(400);
    expect((await asset("upsert-hashes", { hashes: ["a".repeat(32)] })).status).toBe(400);
    expect(
      (
        await asset("upload", [
          { key: "a".repeat(32), value, base64: true, metadata: { contentType: "text/html" } },
        ])
      ).status,
    ).toBe(200);
    expect((await asset("upsert-hashes", { hashes: ["a".repeat(32)] })).status).toBe(200);
    const deploy = (manifest: string, type = "multipart/form-data; boundary=kiln-test-boundary") =>
      call(`${projects()}/strict/deployments`, {
        method: "POST",
        headers: { "content-type": type },
        body: `--kiln-test-boundary\r\ncontent-disposition: form-data; name="manifest"\r\n\r\n${manifest}\r\n--kiln-test-boundary--\r\n`,
      });
    expect((await deploy("{}", "application/json")).status).toBe(400);
    expect((await deploy("not json")).status).toBe(400);
    expect(
      (await deploy(JSON.stringify({ "/index.html": "b".repeat(32) }))).json.errors[0].message,
    ).toContain("never uploaded");
    const ok = await deploy(JSON.stringify({ "/index.html": "a".repeat(32) }));
    expect([ok.status, ok.json.result.latest_stage.name]).toEqual([200, "queued"]);
    expect(cloudflare.filesOf(ok.json.result.id)?.get("index.html")).toEqual(page);
  });
});
