import { SLUG_MAX_LENGTH, Slug, slugify } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { isReservedSlug, schemaNameFor, withSuffix } from "./slug.ts";

describe("slugs", () => {
  it("accepts good slugs and refuses bad ones", () => {
    for (const ok of ["ab", "team", "my-team-2", `a${"b".repeat(38)}`])
      expect(Slug.safeParse(ok).success).toBe(true);
    for (const bad of [
      "a",
      "A",
      "1team",
      "-team",
      "team-",
      "my--team",
      "my_team",
      `a${"b".repeat(39)}`,
      "",
      "x'); drop",
    ]) {
      expect(Slug.safeParse(bad).success, bad).toBe(false);
    }
  });

  it("maps slugs to schema names one-to-one", () => {
    expect(schemaNameFor("my-team")).toBe("org_my_team");
    expect(schemaNameFor("my-team")).not.toBe(schemaNameFor("myteam"));
  });

  it("makes a slug unique without leaving the slug schema", () => {
    for (const text of [
      "a".repeat(200),
      "--a--b--",
      "Émile.Zola+tag",
      `${"a".repeat(SLUG_MAX_LENGTH - 8)} b`,
    ]) {
      const suffixed = withSuffix(slugify(text));
      expect(Slug.safeParse(suffixed).success, suffixed).toBe(true);
      expect(suffixed).toMatch(/-[0-9a-f]{6}$/);
    }
    expect(withSuffix("team")).not.toBe(withSuffix("team"));
  });

  it("reserves route and system words", () => {
    expect(isReservedSlug("api")).toBe(true);
    expect(isReservedSlug("admin")).toBe(true);
    expect(isReservedSlug("acme")).toBe(false);
  });
});
