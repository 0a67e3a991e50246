import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type HostileBed,
  openShell,
  startHostileBed,
  type Tenant,
  type TenantProject,
} from "./hostile-tenant.ts";
import { directorySwapper } from "./swapper.ts";

/**
 * A tenant races the file API from its own sandbox: a directory it owns is swapped for a symlink into
 * `node_modules/react-dom` — whose files are hard links shared with the template dependency cache and
 * every other org's projects (ADR 0007) — while the API creates, writes and moves into that directory.
 * Kiln must never hand that shared inode to the tenant's uid (it could then rewrite another org's
 * `require('react-dom')`), nor write into it.
 */

const RACE_MS = 15_000;
const SHARED = "node_modules/react-dom/index.js";

let bed: HostileBed;
let attacker: Tenant;
let victim: TenantProject;

beforeAll(async () => {
  bed = await startHostileBed();
  attacker = await bed.tenant();
  // Another org's project from the same template: its react-dom is the same inode.
  victim = await (await bed.tenant()).project("Victim");
}, 600_000);
afterAll(() => bed?.kiln.stop());

const digest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe.skipIf(process.getuid?.() !== 0)(
  "the file API against a tenant swapping directories for symlinks",
  () => {
    it("never hands the dependency cache's shared inode to the tenant, nor writes into it", {
      timeout: 240_000,
    }, async () => {
      const project = await attacker.project("Attacker");
      const owner = bed.kiln.driver.workspaceOwner(project.id)!;
      expect(owner).toBeDefined();
      const shared = path.join(project.dir, SHARED);
      const before = statSync(shared);
      const theirs = statSync(path.join(victim.dir, SHARED));
      // The premise: one inode, root's, in both orgs' projects.
      expect([before.ino, before.uid, before.nlink > 2]).toEqual([theirs.ino, 0, true]);
      const content = digest(shared);

      const c = project.client;
      expect(
        (
          await c.put(`${project.files}/content`, {
            path: "swap.cjs",
            // `d` swapped for a symlink into node_modules/react-dom and back, from the sandbox.
            content: directorySwapper("node_modules/react-dom", RACE_MS),
          })
        ).statusCode,
      ).toBe(200);
      const shell = await openShell(bed, attacker.org.slug, project);
      shell.type("node swap.cjs\n");
      await new Promise((r) => setTimeout(r, 500));

      const statuses = new Map<number, number>();
      const errors = new Set<string>();
      const count = (res: { statusCode: number; body: string }) => {
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) errors.add(res.body);
      };
      const compromised = () => statSync(shared).uid !== 0 || statSync(shared).gid !== 0;
      const end = Date.now() + RACE_MS - 1_000;
      const attack = async (op: (i: number) => Promise<{ statusCode: number; body: string }>) => {
        for (let i = 0; Date.now() < end && !compromised(); i++) count(await op(i));
      };
      await Promise.all([
        attack(() => c.post(`${project.files}/directories`, { path: "d/index.js" })),
        attack(() =>
          c.put(`${project.files}/content`, { path: "d/index.js", content: "pwned();\n", createOnly: true }),
        ),
        attack(async (i) => {
          await c.put(`${project.files}/content`, { path: `m/${i}.js`, content: "pwned();\n" });
          return c.post(`${project.files}/move`, { from: `m/${i}.js`, to: "d/index.js" });
        }),
      ]);
      await shell.waitFor(/swaps \d+/, 30_000);
      shell.close();

      const after = statSync(shared);
      expect({ uid: after.uid, gid: after.gid, ino: after.ino }).toEqual({ uid: 0, gid: 0, ino: before.ino });
      expect(digest(shared)).toBe(content);
      const victimAfter = statSync(path.join(victim.dir, SHARED));
      expect([victimAfter.ino, victimAfter.uid]).toEqual([before.ino, 0]);
      expect(digest(path.join(victim.dir, SHARED))).toBe(content);
      // The race was run: calls got through while the swapper ran (a handful on a loaded machine, dozens on
      // an idle one), and none failed with a 500.
      expect([...errors]).toEqual([]);
      expect(
        (statuses.get(200) ?? 0) + (statuses.get(201) ?? 0),
        JSON.stringify([...statuses]),
      ).toBeGreaterThanOrEqual(5);
    });

    it("replaces a hard-linked file it is asked to write, never writing into the shared inode", async () => {
      const project = await attacker.project("Overwrite");
      const owner = bed.kiln.driver.workspaceOwner(project.id)!;
      const shared = path.join(project.dir, SHARED);
      const before = statSync(shared);
      const content = digest(shared);
      const res = await project.client.put(`${project.files}/content`, {
        path: SHARED,
        content: "mine();\n",
      });
      expect(res.statusCode, res.body).toBe(200);
      const mine = statSync(shared);
      // A new inode of the project's own; the shared one is unchanged in the other org's project.
      expect([mine.ino === before.ino, mine.nlink, mine.uid]).toEqual([false, 1, owner.uid]);
      expect(readFileSync(shared, "utf8")).toBe("mine();\n");
      const theirs = path.join(victim.dir, SHARED);
      expect([statSync(theirs).ino, statSync(theirs).uid, digest(theirs)]).toEqual([before.ino, 0, content]);
      // Directories the API creates are the project's too, given through their own descriptors.
      const made = await project.client.post(`${project.files}/directories`, {
        path: "a/b/c",
        parents: true,
      });
      expect(made.statusCode).toBe(201);
      for (const rel of ["a", "a/b", "a/b/c"])
        expect(statSync(path.join(project.dir, rel)).uid, rel).toBe(owner.uid);
      const deep = await project.client.put(`${project.files}/content`, {
        path: "x/y/z.txt",
        content: "z",
        createParents: true,
      });
      expect(deep.statusCode).toBe(200);
      for (const rel of ["x", "x/y", "x/y/z.txt"])
        expect(statSync(path.join(project.dir, rel)).uid, rel).toBe(owner.uid);
    });
  },
);
