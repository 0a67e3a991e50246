import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { LogBuffer } from "../devserver/log-buffer.ts";
import { PreviewErrors } from "./errors.ts";
import { canInject, injectHtml } from "./errors-inject.ts";
import { ERROR_REPORTER_TAG } from "./errors-script.ts";

describe("PreviewErrors", () => {
  it("merges dev server and browser errors oldest first, counting repeats", () => {
    const log = new LogBuffer();
    const errors = new PreviewErrors({
      logsOf: (org, project) => (org === "o" && project === "p" ? log : undefined),
    });
    log.push("system", "$ node server.js");
    log.write("stderr", "TypeError: first\n    at a (server.js:1:1)\n");
    errors.report("o", "p", { kind: "error", message: "in the page" }, Date.now() + 1_000);
    errors.report("o", "p", { kind: "error", message: "in the page" }, Date.now() + 2_000);
    const recent = errors.recent("o", "p");
    expect(recent.map((e) => [e.source, e.message, e.count])).toEqual([
      ["server", "TypeError: first", 1],
      ["browser", "in the page", 2],
    ]);
    expect(recent[0]!.detail).toBe("    at a (server.js:1:1)");
    expect(errors.recent("o", "other")).toEqual([]);
    expect(errors.recent("x", "p")).toEqual([]);
  });

  it("forgets a dev server's errors from before its last start, and everything on clear", () => {
    const log = new LogBuffer();
    const errors = new PreviewErrors({ logsOf: () => log });
    log.push("system", "$ vite");
    log.push("stderr", "Error: old run");
    log.push("system", "dev server exited with code 1");
    expect(errors.recent("o", "p").map((e) => e.message)).toEqual([
      "Error: old run",
      "dev server exited with code 1",
    ]);
    log.push("system", "$ vite");
    log.push("stderr", "Error: new run");
    errors.report("o", "p", { kind: "console", message: "browser" });
    expect(
      errors
        .recent("o", "p")
        .map((e) => e.message)
        .sort(),
    ).toEqual(["Error: new run", "browser"]);
    errors.clear("o", "p");
    expect(errors.recent("o", "p")).toEqual([]);
    log.push("stderr", "Error: after the clear");
    expect(errors.recent("o", "p").map((e) => e.message)).toEqual(["Error: after the clear"]);
  });

  it("forgets a page's earlier errors and the dev server's when that page loads cleanly", () => {
    const log = new LogBuffer();
    const errors = new PreviewErrors({ logsOf: () => log });
    log.push("system", "$ vite");
    log.push("stderr", "Error: half-done edit");
    errors.report("o", "p", { kind: "error", message: "crash on /", page: "/" });
    errors.report("o", "p", { kind: "error", message: "crash on /about", page: "/about" });
    errors.report("o", "p", { kind: "console", message: "no page" });
    errors.recovered("o", "p", "/");
    expect(errors.recent("o", "p").map((e) => e.message)).toEqual(["crash on /about"]);
    errors.report("o", "p", { kind: "error", message: "crash on / again", page: "/" });
    expect(errors.recent("o", "p").map((e) => e.message)).toEqual(["crash on /about", "crash on / again"]);
    errors.recovered("o", "other", "/about");
    expect(errors.recent("o", "p")).toHaveLength(2);
  });

  it("keeps a bounded number of distinct browser errors and projects, and rate-limits per project", () => {
    const errors = new PreviewErrors({
      logsOf: () => undefined,
      capacity: 3,
      maxProjects: 2,
      reportsPerMinute: 2,
    });
    for (let i = 0; i < 5; i++) errors.report("o", "p", { kind: "error", message: `e${i}` }, 1_000 + i);
    expect(errors.recent("o", "p").map((e) => e.message)).toEqual(["e2", "e3", "e4"]);
    errors.report("o", "q", { kind: "error", message: "q" });
    errors.report("o", "r", { kind: "error", message: "r" });
    expect(errors.recent("o", "p")).toEqual([]);
    expect([errors.allow("o", "p", 0), errors.allow("o", "p", 1), errors.allow("o", "p", 2)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(errors.allow("o", "p", 60_001)).toBe(true);
    errors.forgetOrg("o");
    expect(errors.recent("o", "q")).toEqual([]);
  });
});

describe("HTML injection", () => {
  const tag = "<script>x</script>";
  it.each([
    [
      "<!doctype html><html><head><title>t</title></head></html>",
      "<!doctype html><html><head><script>x</script><title>",
    ],
    ['<html><HEAD lang="en"><meta></HEAD>', '<html><HEAD lang="en"><script>x</script><meta>'],
    [
      "<!DOCTYPE html><header>h</header><body class=a>b",
      "<!DOCTYPE html><header>h</header><body class=a><script>x</script>b",
    ],
    ["<!doctype html><p>bare", "<!doctype html><script>x</script><p>bare"],
    ["just text", "<script>x</script>just text"],
  ])("injects into %s", (html, start) => {
    expect(injectHtml(Buffer.from(html), tag).toString().startsWith(start)).toBe(true);
  });

  it("keeps multi-byte text intact", () => {
    const out = injectHtml(Buffer.from("<head><title>ünïcødé 名前</title>"), tag).toString("utf8");
    expect(out).toBe("<head><script>x</script><title>ünïcødé 名前</title>");
  });

  it("only touches uncompressed HTML bodies without a CSP", () => {
    const answer = (status: number, headers: Record<string, string>) =>
      ({ statusCode: status, headers }) as unknown as IncomingMessage;
    const html = { "content-type": "text/html; charset=utf-8" };
    expect(canInject("GET", answer(200, html))).toBe(true);
    expect(canInject("GET", answer(404, html))).toBe(true);
    expect(canInject("HEAD", answer(200, html))).toBe(false);
    expect(canInject("GET", answer(304, html))).toBe(false);
    expect(canInject("GET", answer(200, { ...html, "content-encoding": "gzip" }))).toBe(false);
    expect(canInject("GET", answer(200, { ...html, "content-security-policy": "script-src 'self'" }))).toBe(
      false,
    );
    expect(canInject("GET", answer(200, { "content-type": "text/html; charset=utf-16" }))).toBe(false);
    expect(canInject("GET", answer(200, { "content-type": "application/json" }))).toBe(false);
  });

  it("ships a script that parses", () => {
    const source = /<script data-kiln="errors">([\s\S]*)<\/script>/.exec(ERROR_REPORTER_TAG)![1]!;
    expect(() => new Function(source)).not.toThrow();
    expect(ERROR_REPORTER_TAG.length).toBeLessThan(6_000);
  });
});
