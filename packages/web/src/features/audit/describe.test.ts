import { AUDIT_ACTIONS, type AuditEvent } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { actorOf, detailsOf, FAMILY_LABELS, verbOf } from "./describe.ts";

const event = (over: Partial<AuditEvent>): AuditEvent => ({
  id: "00000000-0000-4000-8000-000000000000",
  seq: 1,
  at: "2026-12-07T10:00:00.000Z",
  action: "member.role_changed",
  actor: { type: "user", userId: "00000000-0000-4000-8000-000000000001", email: "ada@example.com" },
  projectId: null,
  target: null,
  data: {},
  ip: null,
  ...over,
});

describe("audit log wording", () => {
  it("has words for every action and a label for every family", () => {
    for (const a of AUDIT_ACTIONS) {
      expect(verbOf(a), a).not.toBe(a);
      // The instance admin's own actions have no org: they never reach an org's log or its filter.
      if (!a.startsWith("admin.")) expect(FAMILY_LABELS[a.split(".")[0]!], a).toBeTruthy();
    }
  });

  it("names people, agents acting for them, Kiln, and people since deleted", () => {
    expect(actorOf(event({}))).toBe("ada@example.com");
    expect(actorOf(event({ actor: { type: "agent", userId: "x", email: "ada@example.com" } }))).toBe(
      "Agent for ada@example.com",
    );
    expect(actorOf(event({ actor: { type: "system", userId: null, email: null } }))).toBe("Kiln");
    expect(actorOf(event({ actor: { type: "user", userId: "x", email: null } }))).toBe("a deleted user");
  });

  it("shows a few details, nested ones as JSON, empty ones not at all", () => {
    expect(
      detailsOf(event({ data: { from: "viewer", to: "admin", note: "", gone: null, list: ["a"] } })),
    ).toEqual(["from: viewer", "to: admin", 'list: ["a"]']);
    expect(detailsOf(event({ data: { a: 1, b: 2, c: 3 } }), 2)).toEqual(["a: 1", "b: 2"]);
  });
});
