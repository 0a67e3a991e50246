import { Slug } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { isReservedSlug, schemaNameFor, slugify, withSuffix } from "./slug.ts";

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

  it("slugifies free text into valid slugs", () => {
    expect(slugify("Habit Tracker!")).toBe("habit-tracker");
    expect(slugify("Café Crème")).toBe("cafe-creme");
    expect(slugify("123 go")).toBe("go");
    expect(slugify("日本語")).toBe("project");
    expect(slugify("x", "me")).toBe("me");
    for (const text of ["a".repeat(200), "--a--b--", "Émile.Zola+tag"]) {
      expect(Slug.safeParse(slugify(text)).success, text).toBe(true);
      expect(Slug.safeParse(withSuffix(slugify(text))).success, text).toBe(true);
    }
  });

  it("reserves route and system words", () => {
    expect(isReservedSlug("api")).toBe(true);
    expect(isReservedSlug("admin")).toBe(true);
    expect(isReservedSlug("acme")).toBe(false);
  });
});
