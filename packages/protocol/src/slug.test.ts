import { describe, expect, it } from "vitest";
import { SLUG_MAX_LENGTH, Slug } from "./common.ts";
import { slugify } from "./slug.ts";

describe("slugify", () => {
  it("turns free text into a slug", () => {
    expect(slugify("Habit Tracker!")).toBe("habit-tracker");
    expect(slugify("Café Crème")).toBe("cafe-creme");
    expect(slugify("123 go")).toBe("go");
    expect(slugify("  My   Team -- 2 ")).toBe("my-team-2");
  });

  it("gives the fallback when no valid slug is left", () => {
    expect(slugify("日本語")).toBe("project");
    expect(slugify("")).toBe("project");
    expect(slugify("x", "me")).toBe("me");
    expect(slugify("42", "")).toBe("");
  });

  it("keeps to the slug schema's length and drops a hyphen left at the cut", () => {
    expect(slugify("a".repeat(200))).toBe("a".repeat(SLUG_MAX_LENGTH));
    const cut = slugify(`${"a".repeat(SLUG_MAX_LENGTH - 1)} tail`);
    expect(cut).toBe("a".repeat(SLUG_MAX_LENGTH - 1));
    expect(Slug.safeParse(`a${"b".repeat(SLUG_MAX_LENGTH - 1)}`).success).toBe(true);
    expect(Slug.safeParse(`a${"b".repeat(SLUG_MAX_LENGTH)}`).success).toBe(false);
  });

  it("always yields what the server's Slug schema accepts", () => {
    const texts = [
      "a".repeat(200),
      "--a--b--",
      "Émile.Zola+tag",
      "ab",
      "Z",
      "9 lives",
      `${"x-".repeat(40)}y`,
    ];
    for (const text of texts) {
      const slug = slugify(text);
      expect(Slug.safeParse(slug).success, `${text} → ${slug}`).toBe(true);
    }
  });
});
