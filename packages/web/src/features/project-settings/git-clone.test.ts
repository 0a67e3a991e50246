import { describe, expect, it } from "vitest";
import { cloneCommand } from "./git-clone.ts";

describe("cloneCommand", () => {
  it("names the repository under /git/<org>/<project>.git of the studio's own origin", () => {
    expect(cloneCommand("http://127.0.0.1:4000", "acme", "shop")).toBe(
      "git clone http://127.0.0.1:4000/git/acme/shop.git",
    );
    expect(cloneCommand("https://kiln.example.com/", "acme", "shop")).toBe(
      "git clone https://kiln.example.com/git/acme/shop.git",
    );
  });
});
