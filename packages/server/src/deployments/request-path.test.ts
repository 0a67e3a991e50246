import { describe, expect, it } from "vitest";
import { parseRequestPath } from "./request-path.ts";

const candidates = (target: string) => parseRequestPath(target)?.candidates;

describe("parseRequestPath", () => {
  it("maps the root and directories to their index.html", () => {
    expect(parseRequestPath("/")).toEqual({ path: "", candidates: ["index.html"] });
    expect(parseRequestPath("/about/")).toEqual({ path: "about/", candidates: ["about/index.html"] });
  });

  it("tries the exact path, then .html, then a directory index", () => {
    expect(parseRequestPath("/about")).toEqual({
      path: "about",
      candidates: ["about", "about.html", "about/index.html"],
    });
    expect(candidates("/assets/app.js")?.[0]).toBe("assets/app.js");
  });

  it("percent-decodes each segment and ignores query and fragment", () => {
    expect(candidates("/caf%C3%A9%20menu.html")?.[0]).toBe("café menu.html");
    expect(candidates("/a+b.txt")?.[0]).toBe("a+b.txt");
    expect(candidates("/about?x=/../etc/passwd")?.[0]).toBe("about");
    expect(candidates("/?q=1")).toEqual(["index.html"]);
    expect(candidates("/about#top")?.[0]).toBe("about");
  });

  it("refuses traversal, raw or encoded, and every other ambiguous spelling", () => {
    for (const target of [
      "/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%2E%2E/etc/passwd",
      "/assets/../index.html",
      "/./index.html",
      "/.",
      "/..",
      "/..%2fetc%2fpasswd",
      "/a%2Fb",
      "/..\\..\\etc\\passwd",
      "/a%5cb",
      "/index.html%00.png",
      "/index.html\u0000",
      "/a%0d%0aSet-Cookie:%20x=1",
      "//etc/passwd",
      "/assets//app.js",
      "/%",
      "/%zz",
      "/%C3%28",
      "/%ED%A0%80",
      `/${"a".repeat(2000)}`,
      "",
      "etc/passwd",
      "http://evil.example/index.html",
      "*",
    ]) {
      expect(parseRequestPath(target), JSON.stringify(target)).toBeUndefined();
    }
  });

  it("accepts a target up to 2000 characters", () => {
    expect(candidates(`/${"a".repeat(1999)}`)?.[0]).toBe("a".repeat(1999));
  });
});
