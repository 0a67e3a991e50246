import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileBed, openShell, startHostileBed, type Tenant } from "./hostile-tenant.ts";

/**
 * A tenant races a recursive delete from its own sandbox: while the file API removes `v`, a subdirectory
 * of it is swapped for a symlink to a directory outside the project. A walk by path as root would follow it
 * and delete what is there; the canary outside must survive.
 */

const RACE_MS = 15_000;
const CANARIES = 300;

// Runs in the sandbox (node del.cjs <ms> <outside dir> <canaries>): `v/sub` is a full directory, then a symlink.
const SWAPPER = `
const fs = require("fs");
const end = Date.now() + Number(process.argv[2]);
const outside = process.argv[3];
const CANARIES = Number(process.argv[4]);
// Each state held a little while, so a walk's lstat and its unlink can both land in the same one.
const hold = (ms) => { const until = performance.now() + ms; while (performance.now() < until); };
let swaps = 0;
let made = 0;
const setup = () => {
  fs.mkdirSync("v/sub", { recursive: true });
  // The same names as the files outside: a walk led there by path deletes whichever it reaches.
  for (let i = 0; i < CANARIES; i++) fs.writeFileSync("v/sub/canary" + i, "mine");
  fs.symlinkSync(outside, "v/link");
  made++;
};
while (Date.now() < end) {
  try {
    if (!fs.existsSync("v")) setup();
    fs.renameSync("v/sub", "v/real");
    fs.renameSync("v/link", "v/sub");
    hold(0.5);
    fs.renameSync("v/sub", "v/link");
    fs.renameSync("v/real", "v/sub");
    hold(0.5);
    swaps++;
  } catch {
    try { fs.rmSync("v", { recursive: true, force: true }); } catch {}
  }
}
console.log("swapper-done " + swaps + " " + made);
`;

let bed: HostileBed;
let attacker: Tenant;
let outside: string;

beforeAll(async () => {
  bed = await startHostileBed();
  attacker = await bed.tenant();
  outside = await mkdtemp(path.join(os.tmpdir(), "kiln-canary-"));
}, 600_000);
afterAll(async () => {
  await bed?.kiln.stop();
  await rm(outside, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)(
  "a recursive delete against a tenant swapping directories for symlinks",
  () => {
    it("never follows a symlink out of the project", { timeout: 240_000 }, async () => {
      for (let i = 0; i < CANARIES; i++) await writeFile(path.join(outside, `canary${i}`), "not yours");
      const project = await attacker.project("Deleter", "static");
      const c = project.client;
      expect(
        (await c.put(`${project.files}/content`, { path: "del.cjs", content: SWAPPER })).statusCode,
      ).toBe(200);
      const shell = await openShell(bed, attacker.org.slug, project);
      shell.type(`node del.cjs ${RACE_MS} ${outside} ${CANARIES}\n`);
      await new Promise((r) => setTimeout(r, 500));

      const statuses = new Map<number, number>();
      const errors = new Set<string>();
      const end = Date.now() + RACE_MS - 1_000;
      const intact = async () => (await readdir(outside)).length === CANARIES;
      while (Date.now() < end && (await intact())) {
        const res = await c.delete(`${project.files}?path=v&recursive=true`);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) errors.add(res.body);
      }
      await shell.waitFor(/swapper-done \d+ \d+/, 30_000);
      shell.close();

      expect((await readdir(outside)).length).toBe(CANARIES);
      expect(await readFile(path.join(outside, "canary0"), "utf8")).toBe("not yours");
      expect([...errors]).toEqual([]);
      // The race was run: whole trees were deleted while the swapper ran.
      expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(5);
    });
  },
);
