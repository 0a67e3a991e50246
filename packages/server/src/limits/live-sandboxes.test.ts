import { describe, expect, it } from "vitest";
import { LimitExceededError } from "./errors.ts";
import { LiveSandboxes, type SandboxClaim } from "./live-sandboxes.ts";

const GiB = 1024 ** 3;
const limits = {
  sandboxesPerOrg: 3,
  terminalsPerOrg: 2,
  terminalsPerUser: 1,
  orgMemoryBytes: 2.5 * GiB,
  orgCpus: 4,
};

function claim(over: Partial<SandboxClaim> = {}): SandboxClaim {
  return {
    kind: "command",
    orgId: "a",
    projectId: "p1",
    userId: "u1",
    memoryBytes: GiB / 2,
    cpu: 1,
    ...over,
  };
}

function refusal(fn: () => unknown): { status: number; details: unknown } {
  try {
    fn();
  } catch (err) {
    if (err instanceof LimitExceededError) return { status: err.status, details: err.details };
    throw err;
  }
  throw new Error("not refused");
}

describe("LiveSandboxes", () => {
  it("caps an org's live sandboxes and frees the place when one ends", () => {
    const live = new LiveSandboxes(limits);
    const leases = [live.admit(claim()), live.admit(claim()), live.admit(claim())];
    expect(refusal(() => live.admit(claim()))).toEqual({
      status: 429,
      details: { limit: "sandboxes_per_org", max: 3, current: 3 },
    });
    // Another org is not affected.
    live.admit(claim({ orgId: "b" }));
    leases[0]!.release();
    expect(() => live.admit(claim())).not.toThrow();
  });

  it("caps terminals per org and per user, across projects", () => {
    const live = new LiveSandboxes({ ...limits, sandboxesPerOrg: 0 });
    live.admit(claim({ kind: "terminal", projectId: "p1" }));
    expect(refusal(() => live.admit(claim({ kind: "terminal", projectId: "p2" }))).details).toMatchObject({
      limit: "terminals_per_user",
      max: 1,
    });
    live.admit(claim({ kind: "terminal", projectId: "p2", userId: "u2" }));
    expect(
      refusal(() => live.admit(claim({ kind: "terminal", projectId: "p3", userId: "u3" }))).details,
    ).toMatchObject({ limit: "terminals_per_org", max: 2 });
    // The same user in another org is still capped: terminals per user count everywhere.
    expect(refusal(() => live.admit(claim({ kind: "terminal", orgId: "b" }))).details).toMatchObject({
      limit: "terminals_per_user",
    });
    // Agent commands are not terminals.
    expect(() => live.admit(claim({ kind: "command" }))).not.toThrow();
  });

  it("refuses a start that would take the org's memory or CPU over its budget", () => {
    const live = new LiveSandboxes({ ...limits, sandboxesPerOrg: 0 });
    live.admit(claim({ kind: "devserver", memoryBytes: GiB, cpu: 2 }));
    live.admit(claim({ kind: "devserver", projectId: "p2", memoryBytes: GiB, cpu: 1 }));
    expect(refusal(() => live.admit(claim({ memoryBytes: GiB }))).details).toEqual({
      limit: "org_memory",
      max: 2.5 * GiB,
      current: 2 * GiB,
      unit: "bytes",
    });
    expect(refusal(() => live.admit(claim({ memoryBytes: 1, cpu: 1.5 }))).details).toMatchObject({
      limit: "org_cpu",
      max: 4,
      current: 3,
    });
    expect(() => live.admit(claim({ memoryBytes: GiB / 2, cpu: 1 }))).not.toThrow();
    expect(live.usage("a")).toEqual({ sandboxes: 3, terminals: 0, memoryBytes: 2.5 * GiB, cpu: 4 });
  });

  it("treats 0 as no limit", () => {
    const live = new LiveSandboxes({
      sandboxesPerOrg: 0,
      terminalsPerOrg: 0,
      terminalsPerUser: 0,
      orgMemoryBytes: 0,
      orgCpus: 0,
    });
    for (let i = 0; i < 100; i++) live.admit(claim({ kind: "terminal", memoryBytes: GiB, cpu: 8 }));
    expect(live.usage("a").terminals).toBe(100);
  });

  it("kills a project's sandboxes and lists projects with something running", async () => {
    const live = new LiveSandboxes(limits);
    const killed: string[] = [];
    live.admit(claim()).onKill(async () => void killed.push("p1-a"));
    live.admit(claim()).onKill(async () => void killed.push("p1-b"));
    live.admit(claim({ projectId: "p2" })).onKill(async () => void killed.push("p2"));
    expect(live.projects()).toEqual([
      { orgId: "a", projectId: "p1" },
      { orgId: "a", projectId: "p2" },
    ]);
    expect(await live.killProject("a", "p1")).toBe(2);
    expect(killed.sort()).toEqual(["p1-a", "p1-b"]);
  });
});
