import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UnsafeHostDriver } from "./unsafe-host-driver.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-unsafe-"));
const driver = new UnsafeHostDriver();
const spec = { projectId: "p", workspaceDir: dir };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("UnsafeHostDriver (KILN_ALLOW_UNSANDBOXED=1 only)", () => {
  it("says it is unsandboxed", async () => {
    expect(driver.unsandboxed).toBe(true);
    expect((await driver.check()).warnings.join()).toMatch(/UNSANDBOXED/);
  });

  it("runs in the workspace and still kills the process group at the wall-clock limit", async () => {
    const ok = await driver.exec(spec, { argv: ["/bin/sh", "-c", "pwd"] });
    expect(ok.stdout.trim()).toBe(dir);
    const slow = await driver.exec(spec, {
      argv: ["/bin/sh", "-c", "sleep 30 & sleep 30"],
      limits: { wallClockMs: 300 },
    });
    expect(slow.timedOut).toBe(true);
    expect(slow.durationMs).toBeLessThan(5_000);
  });
});
