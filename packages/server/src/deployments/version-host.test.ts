import { describe, expect, it } from "vitest";
import { parseSiteHost } from "./host.ts";
import { parseVersionHost, versionOrigin } from "./version-host.ts";

describe("a deployment's own host", () => {
  it("names the project, the org and the deployment's number", () => {
    expect(parseVersionHost("habits--team--d3.apps.localhost:4000", "apps.localhost")).toEqual({
      projectSlug: "habits",
      orgSlug: "team",
      number: 3,
    });
    expect(
      versionOrigin("https://kiln.example.com", "apps.example.net", {
        projectSlug: "habits",
        orgSlug: "team",
        number: 12,
      }),
    ).toBe("https://habits--team--d12.apps.example.net");
  });

  it("is never a publish host, and nothing else is one", () => {
    expect(parseSiteHost("habits--team--d3.apps.localhost", "apps.localhost")).toBeUndefined();
    for (const host of [
      "habits--team.apps.localhost",
      "habits--team--d0.apps.localhost",
      "habits--team--d01.apps.localhost",
      "habits--team--3.apps.localhost",
      "habits--team--d3.localhost",
      "x.habits--team--d3.apps.localhost",
      "habits--team--d3--d4.apps.localhost",
      "Habits--team--d1234567890.apps.localhost",
      "--team--d3.apps.localhost",
      undefined,
    ])
      expect(parseVersionHost(host, "apps.localhost"), String(host)).toBeUndefined();
  });
});
