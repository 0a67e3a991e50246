import { describe, expect, it } from "vitest";
import { mentionHandles, resolveMentions } from "./mentions.ts";

const members = [
  { userId: "a", name: "Alice Owner", email: "alice.o@example.com" },
  { userId: "b", name: "Bob Reviewer", email: "bob@example.com" },
  { userId: "c", name: "Carol Third", email: "c3@example.com" },
  { userId: "d", name: "Carol Fourth", email: "cf@example.com" },
];

describe("mentions", () => {
  it("reads @handles, not email addresses, and drops a sentence's final dot", () => {
    expect(mentionHandles("hi @Bob, ask @alice.o. Mail me at me@example.com or @@x")).toEqual([
      "bob",
      "alice.o",
    ]);
    expect(mentionHandles("(@c3) and\n@CarolFourth")).toEqual(["c3", "carolfourth"]);
    expect(mentionHandles("no mentions here")).toEqual([]);
  });

  it("resolves email local parts, whole names and unique first names", () => {
    expect(resolveMentions("@alice.o and @bobreviewer", members)).toEqual(["a", "b"]);
    expect(resolveMentions("@bob please", members)).toEqual(["b"]);
    expect(resolveMentions("@c3 @cf", members)).toEqual(["c", "d"]);
  });

  it("mentions nobody with a shared first name or an unknown handle", () => {
    expect(resolveMentions("@carol look", members)).toEqual([]);
    expect(resolveMentions("@mallory @example.com", members)).toEqual([]);
  });
});
