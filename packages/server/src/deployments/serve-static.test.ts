import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ArtifactFile, ArtifactManifest } from "./manifest.ts";
import { type StaticSite, serveStatic } from "./serve-static.ts";

const dir = mkdtempSync(join(tmpdir(), "kiln-serve-static-"));
const store = join(dir, "blobs");
const SECRET = "TOP-SECRET-OUTSIDE-THE-ARTIFACT";
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** Writes each file's blob into the store and lists it; the secret sits next to the store, never listed. */
function siteOf(
  contents: Record<string, string | Buffer>,
  spa: boolean,
  extra: Record<string, ArtifactFile> = {},
) {
  const files: ArtifactManifest["files"] = { ...extra };
  for (const [path, content] of Object.entries(contents)) {
    const data = Buffer.from(content);
    const digest = sha256(data);
    writeFileSync(join(store, digest), data);
    files[path] = { digest, size: data.length };
  }
  return { manifest: { files, spa }, blobPath: (digest: string) => join(store, digest) } satisfies StaticSite;
}

const html = (title: string) => `<!doctype html><title>${title}</title>${"<p>lorem ipsum</p>\n".repeat(80)}`;
const script = `export const app = 1;\n${"console.log('published');\n".repeat(200)}`;
const big = Buffer.from(Array.from({ length: 250_000 }, (_, i) => `console.log(${i});\n`).join(""));
const large = randomBytes(16 * 1024 * 1024);
const png = randomBytes(3000);
const gone = sha256(Buffer.from("never stored"));

let spaSite: StaticSite;
let plainSite: StaticSite;
let site: StaticSite;
let server: http.Server;
let port = 0;
let finished = 0;

beforeAll(async () => {
  writeFileSync(join(dir, "secret.txt"), SECRET);
  mkdirSync(store);
  const files = {
    "index.html": html("home"),
    "about.html": html("about"),
    "docs/index.html": html("docs"),
    "café menu.html": html("menu"),
    "assets/index-BkQ3x9aZ.js": script,
    "assets/small.css": "body{margin:0}",
    "logo.png": png,
    "empty.txt": "",
    "big.js": big,
    "large.bin": large,
  };
  spaSite = siteOf(files, true, {
    "missing.js": { digest: gone, size: 10 },
    "wrong-size.txt": { digest: sha256(Buffer.from("body{margin:0}")), size: 99 },
    "bad-digest.txt": { digest: "../secret.txt", size: SECRET.length },
  });
  plainSite = siteOf({ ...files, "404.html": html("custom not found") }, false);
  server = http.createServer((req, res) => {
    void serveStatic(req, res, site).finally(() => finished++);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  site = spaSite;
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A real request with the target sent as written (fetch would normalise `..` away); checks what every answer must carry. */
function request(path: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        expect(res.headers["x-content-type-options"]).toBe("nosniff");
        expect(res.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
        expect(res.headers["set-cookie"]).toBeUndefined();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const text = (answer: Answer) => answer.body.toString();

describe("serveStatic", () => {
  it("serves a listed file with its type, strong ETag, length and headers", async () => {
    const answer = await request("/logo.png");
    expect(answer.status).toBe(200);
    expect(answer.body.equals(png)).toBe(true);
    expect(answer.headers["content-type"]).toBe("image/png");
    expect(answer.headers["content-length"]).toBe(String(png.length));
    expect(answer.headers.etag).toBe(`"${sha256(png)}"`);
    expect(answer.headers["accept-ranges"]).toBe("bytes");
    expect(answer.headers["cache-control"]).toBe("no-cache");
    expect(answer.headers.vary).toBeUndefined();
    const empty = await request("/empty.txt");
    expect([empty.status, empty.headers["content-length"], empty.body.length]).toEqual([200, "0", 0]);
    expect(empty.headers["content-type"]).toBe("text/plain; charset=utf-8");
  });

  it("answers HEAD with the GET headers and no body", async () => {
    const answer = await request("/logo.png", { method: "HEAD" });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-length"]).toBe(String(png.length));
    expect(answer.body.length).toBe(0);
    const compressed = await request("/", { method: "HEAD", headers: { "accept-encoding": "br" } });
    expect(compressed.headers["content-encoding"]).toBe("br");
    expect(compressed.body.length).toBe(0);
  });

  it("refuses other methods with 405 and Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const answer = await request("/index.html", { method });
      expect(answer.status, method).toBe(405);
      expect(answer.headers.allow).toBe("GET, HEAD");
    }
  });

  it("resolves /, directories, extensionless pages, queries and encoded names", async () => {
    site = plainSite;
    expect(text(await request("/"))).toContain("<title>home</title>");
    expect(text(await request("/?utm=1"))).toContain("<title>home</title>");
    expect(text(await request("/about"))).toContain("<title>about</title>");
    expect(text(await request("/about?x=1"))).toContain("<title>about</title>");
    expect(text(await request("/docs"))).toContain("<title>docs</title>");
    expect(text(await request("/docs/"))).toContain("<title>docs</title>");
    expect(text(await request("/caf%C3%A9%20menu"))).toContain("<title>menu</title>");
    const answer = await request("/about.html");
    expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(answer.headers["cache-control"]).toBe("no-cache");
  });

  it("never answers with anything outside the manifest, however the path is spelt", async () => {
    for (const candidate of [spaSite, plainSite]) {
      site = candidate;
      for (const path of [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/assets/../../secret.txt",
        "/..\\..\\secret.txt",
        "/%5c..%5csecret.txt",
        "//etc/passwd",
        "/blobs/../secret.txt",
        "/index.html%00.png",
        "/%E0%A4%A",
        "/%zz",
        `/${"..%2f".repeat(500)}etc/passwd`,
        "http://127.0.0.1/../secret.txt",
        "/secret.txt",
        `/${gone}`,
        "/bad-digest.txt/../../secret.txt",
      ]) {
        const answer = await request(path, { headers: { accept: "*/*" } });
        // A refusal, a miss, or (for a single-page app and an extensionless path) its own index.html.
        const fallback = candidate.manifest.spa && text(answer) === html("home");
        expect(fallback || [400, 404].includes(answer.status), path).toBe(true);
        expect(text(answer), path).not.toContain(SECRET);
        expect(text(answer), path).not.toContain("root:");
      }
    }
    // A digest that is not one never reaches the disk: the manifest is broken, the answer is 503.
    site = spaSite;
    const bad = await request("/bad-digest.txt");
    expect(bad.status).toBe(503);
    expect(text(bad)).not.toContain(SECRET);
  });

  it("looks up own manifest entries only, never object-prototype names", async () => {
    site = plainSite;
    for (const path of [
      "/__proto__",
      "/constructor",
      "/toString",
      "/hasOwnProperty",
      "/__proto__/index.html",
    ]) {
      const answer = await request(path);
      expect(answer.status, path).toBe(404);
      expect(text(answer)).toContain("custom not found");
    }
  });

  it("falls back to index.html for a page navigation in a single-page app, and 404s the rest", async () => {
    const page = await request("/dashboard/settings");
    expect(page.status).toBe(200);
    expect(text(page)).toContain("<title>home</title>");
    const withAccept = await request("/report.pdf", {
      headers: { accept: "text/html,application/xhtml+xml" },
    });
    expect(withAccept.status).toBe(200);
    expect(text(withAccept)).toContain("<title>home</title>");
    const asset = await request("/assets/missing-BkQ3x9aZ.js", { headers: { accept: "*/*" } });
    expect(asset.status).toBe(404);
    expect(asset.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(text(asset)).toBe("not found\n");
  });

  it("answers 404 without the fallback, with the site's own 404.html when it has one", async () => {
    site = plainSite;
    const answer = await request("/dashboard/settings", { headers: { "if-none-match": "*" } });
    expect(answer.status).toBe(404);
    expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(text(answer)).toContain("<title>custom not found</title>");
    site = {
      ...plainSite,
      manifest: {
        ...plainSite.manifest,
        files: { "index.html": spaSite.manifest.files["index.html"] as ArtifactFile },
      },
    };
    const plain = await request("/nowhere");
    expect([plain.status, text(plain)]).toEqual([404, "not found\n"]);
  });

  it("keeps fingerprinted assets for a year and revalidates everything else", async () => {
    const asset = await request("/assets/index-BkQ3x9aZ.js");
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect((await request("/assets/small.css")).headers["cache-control"]).toBe("no-cache");
    expect((await request("/index.html")).headers["cache-control"]).toBe("no-cache");
  });

  it("answers 304 to a matching If-None-Match: exact, in a list, weak, or *", async () => {
    const etag = `"${sha256(png)}"`;
    for (const header of [etag, `"other", ${etag}`, `W/${etag}`, "*"]) {
      const answer = await request("/logo.png", { headers: { "if-none-match": header } });
      expect(answer.status, header).toBe(304);
      expect(answer.headers.etag).toBe(etag);
      expect(answer.body.length).toBe(0);
    }
    expect((await request("/logo.png", { headers: { "if-none-match": '"stale"' } })).status).toBe(200);
  });

  it("compresses text of 1 KiB or more, brotli first, with its own ETag and Vary", async () => {
    const br = await request("/assets/index-BkQ3x9aZ.js", {
      headers: { "accept-encoding": "gzip, deflate, br" },
    });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toBe("accept-encoding");
    expect(br.headers.etag).toBe(`"${sha256(Buffer.from(script))}-br"`);
    expect(Number(br.headers["content-length"])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(script.length / 5);
    expect(brotliDecompressSync(br.body).toString()).toBe(script);

    const gz = await request("/assets/index-BkQ3x9aZ.js", { headers: { "accept-encoding": "br;q=0, gzip" } });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.headers.etag).toBe(`"${sha256(Buffer.from(script))}-gzip"`);
    expect(gunzipSync(gz.body).toString()).toBe(script);

    const identity = await request("/assets/index-BkQ3x9aZ.js", {
      headers: { "accept-encoding": "identity" },
    });
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(identity.headers.vary).toBe("accept-encoding");
    expect(identity.body.toString()).toBe(script);

    for (const path of ["/assets/small.css", "/logo.png"]) {
      const answer = await request(path, { headers: { "accept-encoding": "br" } });
      expect(answer.headers["content-encoding"], path).toBeUndefined();
    }
  });

  it("matches If-None-Match against the tag of the encoding it would send", async () => {
    const digest = sha256(Buffer.from(script));
    const headers = { "accept-encoding": "br", "if-none-match": `"${digest}-br"` };
    expect((await request("/assets/index-BkQ3x9aZ.js", { headers })).status).toBe(304);
    const identityTag = { "accept-encoding": "br", "if-none-match": `"${digest}"` };
    const fresh = await request("/assets/index-BkQ3x9aZ.js", { headers: identityTag });
    expect([fresh.status, fresh.headers["content-encoding"]]).toEqual([200, "br"]);
  });

  it("streams a file over 4 MiB through the compressor, without a length", async () => {
    const answer = await request("/big.js", { headers: { "accept-encoding": "gzip" } });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-encoding"]).toBe("gzip");
    expect(answer.headers["content-length"]).toBeUndefined();
    expect(answer.headers["transfer-encoding"]).toBe("chunked");
    expect(gunzipSync(answer.body).equals(big)).toBe(true);
  });

  it("answers single byte ranges with 206 and Content-Range", async () => {
    const cases: [string, number, number][] = [
      ["bytes=0-99", 0, 99],
      ["bytes=2900-", 2900, 2999],
      ["bytes=-10", 2990, 2999],
      ["bytes=2990-5000", 2990, 2999],
    ];
    for (const [range, start, end] of cases) {
      const answer = await request("/logo.png", { headers: { range } });
      expect(answer.status, range).toBe(206);
      expect(answer.headers["content-range"]).toBe(`bytes ${start}-${end}/3000`);
      expect(answer.headers["content-length"]).toBe(String(end - start + 1));
      expect(answer.body.equals(png.subarray(start, end + 1))).toBe(true);
    }
  });

  it("answers 416 to an unsatisfiable range and the whole file to several ranges", async () => {
    const unsatisfiable = await request("/logo.png", { headers: { range: "bytes=3000-" } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers["content-range"]).toBe("bytes */3000");
    const several = await request("/logo.png", { headers: { range: "bytes=0-1,10-20" } });
    expect(several.status).toBe(200);
    expect(several.body.equals(png)).toBe(true);
  });

  it("keeps a range only under a matching If-Range, and never compresses a range", async () => {
    const etag = `"${sha256(png)}"`;
    const kept = await request("/logo.png", { headers: { range: "bytes=0-9", "if-range": etag } });
    expect(kept.status).toBe(206);
    for (const ifRange of ['"stale"', `W/${etag}`, "Wed, 21 Oct 2015 07:28:00 GMT"]) {
      const whole = await request("/logo.png", { headers: { range: "bytes=0-9", "if-range": ifRange } });
      expect(whole.status, ifRange).toBe(200);
      expect(whole.body.length).toBe(3000);
    }
    const text = await request("/assets/index-BkQ3x9aZ.js", {
      headers: { range: "bytes=0-5", "accept-encoding": "br" },
    });
    expect([text.status, text.headers["content-encoding"], text.body.toString()]).toEqual([
      206,
      undefined,
      "export",
    ]);
  });

  it("answers 503, and keeps serving, when a blob is missing or mangled in the store", async () => {
    for (const path of ["/missing.js", "/wrong-size.txt"]) {
      const answer = await request(path, { headers: { "accept-encoding": "br" } });
      expect(answer.status, path).toBe(503);
      expect(text(answer)).toBe("this deployment's files are not available\n");
    }
    expect((await request("/logo.png")).status).toBe(200);
  });

  it("closes the file of every client that disconnects mid-stream", async () => {
    const fds = () => readdirSync("/proc/self/fd").length;
    const abortMidStream = (path: string, headers: Record<string, string>) =>
      new Promise<void>((resolve, reject) => {
        const before = finished;
        const req = http.request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
          res.once("data", () => req.destroy());
        });
        req.on("error", () => {});
        req.on("close", async () => {
          // Until serveStatic returns for this request, its side may still hold the file.
          for (let i = 0; i < 200 && finished === before; i++) await sleep(10);
          if (finished === before) reject(new Error("serveStatic never returned"));
          else resolve();
        });
        req.end();
      });
    await abortMidStream("/large.bin", {});
    await sleep(50);
    const baseline = fds();
    for (let i = 0; i < 20; i++) {
      await abortMidStream("/large.bin", {});
      await abortMidStream("/big.js", { "accept-encoding": "br" });
    }
    let after = fds();
    for (let i = 0; i < 100 && after > baseline; i++) {
      await sleep(20);
      after = fds();
    }
    expect(after).toBeLessThanOrEqual(baseline + 2);
  });
});
