import { describe, expect, it } from "vitest";
import { checkGitUrl, repositoryName } from "./url.ts";

describe("checkGitUrl", () => {
  it("takes https URLs as they are", () => {
    expect(checkGitUrl(" https://git.example.com/team/app.git ").href).toBe(
      "https://git.example.com/team/app.git",
    );
    expect(checkGitUrl("https://git.example.com:8443/a").port).toBe("8443");
  });

  it.each([
    ["file:///etc/passwd", /only https/],
    ["ssh://git@example.com/a.git", /only https/],
    ["git://example.com/a.git", /only https/],
    ["http://example.com/a.git", /only https/],
    ["ext::sh -c touch% /tmp/x", /spaces/],
    ["ext::sh", /remote helper/],
    ["fd::0,1/a", /remote helper/],
    ["git@example.com:team/a.git", /only https|not a URL/],
    ["https://user:secret@example.com/a.git", /credentials/],
    ["https://token@example.com/a.git", /credentials/],
    ["https://example.com/a.git#frag", /fragment/],
    ["https://example.com/a b.git", /spaces/],
    ["https://example.com/a\u0000.git", /control/],
    ["https://example.com\\@evil.com/a.git", /backslash/],
    ["-uhttps://example.com", /not a URL/],
    ["", /not a URL/],
  ])("refuses %j", (url, message) => {
    expect(() => checkGitUrl(url)).toThrow(message);
    try {
      checkGitUrl(url);
    } catch (err) {
      expect((err as { code: string }).code).toBe("git_url_invalid");
    }
  });
});

describe("repositoryName", () => {
  it("is the last path segment without .git, decoded, with a fallback to the host", () => {
    expect(repositoryName(new URL("https://h.example/team/My%20App.git"))).toBe("My App");
    expect(repositoryName(new URL("https://h.example/team/app/"))).toBe("app");
    expect(repositoryName(new URL("https://h.example/"))).toBe("h.example");
    expect(repositoryName(new URL("https://h.example/%E0%A4%A.git"))).toBe("%E0%A4%A");
    expect(repositoryName(new URL("https://h.example/a%0Ab.git"))).toBe("ab");
  });
});
