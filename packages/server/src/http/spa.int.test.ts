import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../app.ts";
import { startTestKiln, type TestKiln } from "../testing/harness.ts";

let kiln: TestKiln;
let app: FastifyInstance;
let webDir: string;

beforeAll(async () => {
  kiln = await startTestKiln();
  webDir = await mkdtemp(path.join(os.tmpdir(), "kiln-web-"));
  await mkdir(path.join(webDir, "assets"));
  await writeFile(path.join(webDir, "index.html"), "<!doctype html><div id=root></div>");
  await writeFile(path.join(webDir, "assets", "index-abc123.js"), "console.log(1)");
  // The same services behind an app that serves this directory as the studio.
  app = await buildApp(kiln.services, { config: kiln.config, logger: pino({ level: "silent" }), webDir });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await kiln?.stop();
  await rm(webDir, { recursive: true, force: true });
});

const page = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };

describe("serving the studio", () => {
  it("answers deep links a browser opens as pages with index.html, never cached", async () => {
    for (const url of ["/", "/my-org", "/my-org/my-project", "/my-org/settings?tab=members", "/invite/abc"]) {
      const res = await app.inject({ url, headers: page });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-type"], url).toMatch(/^text\/html/);
      expect(res.body, url).toContain("<div id=root>");
      expect(res.headers["cache-control"], url).toBe("no-cache");
    }
  });

  it("serves hashed assets as immutable", async () => {
    const res = await app.inject({ url: "/assets/index-abc123.js" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toContain("immutable");
  });

  it("keeps the JSON 404 for API paths, other methods and requests that are not pages", async () => {
    for (const [method, url, headers] of [
      ["GET", "/api/nope", page],
      ["GET", "/API/nope", page],
      ["GET", "/api", page],
      ["GET", "/v1/models-nope", page],
      ["GET", "/assets/missing.js", { accept: "*/*" }],
      ["GET", "/my-org/my-project", { accept: "application/json" }],
      ["POST", "/my-org/my-project", page],
    ] as const) {
      const res = await app.inject({ method, url, headers });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code, `${method} ${url}`).toBe("route_not_found");
    }
  });

  it("leaves the fallback out of the API document", async () => {
    const doc = (await app.inject({ url: "/api/openapi.json" })).json();
    expect(Object.keys(doc.paths)).not.toContain("/*");
  });
});
