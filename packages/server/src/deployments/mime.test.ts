import { describe, expect, it } from "vitest";
import { contentTypeOf, extensionOf, isCompressible, isFingerprinted } from "./mime.ts";

describe("contentTypeOf", () => {
  it("names every type a build emits, text ones in UTF-8", () => {
    expect(contentTypeOf("index.html")).toBe("text/html; charset=utf-8");
    expect(contentTypeOf("assets/app.JS")).toBe("text/javascript; charset=utf-8");
    expect(contentTypeOf("a.mjs")).toBe("text/javascript; charset=utf-8");
    expect(contentTypeOf("a.css")).toBe("text/css; charset=utf-8");
    expect(contentTypeOf("a.json")).toBe("application/json; charset=utf-8");
    expect(contentTypeOf("a.js.map")).toBe("application/json; charset=utf-8");
    expect(contentTypeOf("site.webmanifest")).toBe("application/manifest+json; charset=utf-8");
    expect(contentTypeOf("logo.svg")).toBe("image/svg+xml; charset=utf-8");
    expect(contentTypeOf("feed.xml")).toBe("application/xml; charset=utf-8");
    expect(contentTypeOf("robots.txt")).toBe("text/plain; charset=utf-8");
    expect(contentTypeOf("a.wasm")).toBe("application/wasm");
    expect(contentTypeOf("a.jpeg")).toBe("image/jpeg");
    expect(contentTypeOf("a.jpg")).toBe("image/jpeg");
    expect(contentTypeOf("a.woff2")).toBe("font/woff2");
    expect(contentTypeOf("a.avif")).toBe("image/avif");
    expect(contentTypeOf("a.pdf")).toBe("application/pdf");
    expect(contentTypeOf("a.webm")).toBe("video/webm");
  });

  it("answers octet-stream for anything else, object-prototype names included", () => {
    expect(contentTypeOf("LICENSE")).toBe("application/octet-stream");
    expect(contentTypeOf("a.exe")).toBe("application/octet-stream");
    expect(contentTypeOf("a.constructor")).toBe("application/octet-stream");
    expect(contentTypeOf("a.__proto__")).toBe("application/octet-stream");
    expect(contentTypeOf("dir.js/file")).toBe("application/octet-stream");
  });
});

describe("extensionOf", () => {
  it("looks at the last segment only", () => {
    expect(extensionOf("about")).toBe("");
    expect(extensionOf("v1.2/about")).toBe("");
    expect(extensionOf("about/")).toBe("");
    expect(extensionOf("a/b.PNG")).toBe("png");
  });
});

describe("isCompressible", () => {
  it("takes text-like types and leaves compressed media alone", () => {
    for (const path of [
      "a.html",
      "a.js",
      "a.css",
      "a.json",
      "a.svg",
      "a.xml",
      "a.wasm",
      "a.map",
      "a.webmanifest",
      "a.txt",
    ]) {
      expect(isCompressible(contentTypeOf(path)), path).toBe(true);
    }
    for (const path of ["a.png", "a.jpg", "a.woff2", "a.mp4", "a.pdf", "a.bin"]) {
      expect(isCompressible(contentTypeOf(path)), path).toBe(false);
    }
  });
});

describe("isFingerprinted", () => {
  it("recognises the hashes bundlers put in names", () => {
    expect(isFingerprinted("assets/index-BkQ3x9aZ.js")).toBe(true);
    expect(isFingerprinted("assets/About-BkQ3x9aZ.js")).toBe(true);
    expect(isFingerprinted("assets/index-Bk-3x9aZ.js")).toBe(true);
    expect(isFingerprinted("assets/my-component-Dq2_xYz7.css")).toBe(true);
    expect(isFingerprinted("static/css/main.3f2a1b9c.css")).toBe(true);
    expect(isFingerprinted("main.3f2a1b9c4d5e6f708192.chunk.js")).toBe(true);
    expect(isFingerprinted("assets/index-BkQ3x9aZ.js.map")).toBe(true);
  });

  it("does not mistake words, dates or short hashes for one (that would pin a changing file for a year)", () => {
    expect(isFingerprinted("index.html")).toBe(false);
    expect(isFingerprinted("assets/my-long-component.js")).toBe(false);
    expect(isFingerprinted("reports/chunk-2024-report.pdf")).toBe(false);
    expect(isFingerprinted("Button-MyComponent.js")).toBe(false);
    expect(isFingerprinted("release-20240101.zip")).toBe(false);
    expect(isFingerprinted("assets/app-3f2a1b.js")).toBe(false);
    expect(isFingerprinted("3f2a1b9c/app.js")).toBe(false);
    expect(isFingerprinted("BkQ3x9aZ.js")).toBe(false);
    expect(isFingerprinted("favicon.ico")).toBe(false);
  });
});
