import { describe, expect, it } from "vitest";
import { parsePreviewHost } from "../preview/host.ts";
import { parseSiteHost, siteOrigin } from "./host.ts";

describe("published sites' hosts", () => {
  it("are <project>--<org>.<publishDomain>, and never a preview's or the studio's", () => {
    expect(parseSiteHost("shop--acme.apps.localhost:4000", "apps.localhost")).toEqual({
      projectSlug: "shop",
      orgSlug: "acme",
    });
    expect(parseSiteHost("SHOP--ACME.apps.localhost.", "apps.localhost")).toEqual({
      projectSlug: "shop",
      orgSlug: "acme",
    });
    for (const host of [
      "shop--acme.localhost", // a preview
      "localhost:4000", // the studio
      "apps.localhost",
      "x.shop--acme.apps.localhost",
      "shop--acme--x.apps.localhost",
      "shop.apps.localhost",
      "-shop--acme.apps.localhost",
      "shop--acme.apps.localhost.evil.com",
      `${"a".repeat(400)}--acme.apps.localhost`,
      undefined,
    ])
      expect(parseSiteHost(host, "apps.localhost"), host).toBeUndefined();
    // …and a site's host is no preview.
    expect(parsePreviewHost("shop--acme.apps.localhost", "localhost")).toBeUndefined();
  });

  it("take the studio's scheme and port", () => {
    const address = { projectSlug: "shop", orgSlug: "acme" };
    expect(siteOrigin("http://localhost:4000", "apps.localhost", address)).toBe(
      "http://shop--acme.apps.localhost:4000",
    );
    expect(siteOrigin("https://kiln.example.com", "sites.example.net", address)).toBe(
      "https://shop--acme.sites.example.net",
    );
  });
});
