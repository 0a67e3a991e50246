import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { link, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { executeTool, type ToolContext, writeFileTool } from "@kiln/agent";
import { afterAll, describe, expect, it } from "vitest";
import { LocalDriver } from "../sandbox/local-driver.ts";
import { chownWorkspace } from "../sandbox/workspace-owner.ts";
import { sandboxedWorkspace } from "../worker/workspace.ts";
import { directorySwapper } from "./swapper.ts";

/**
 * The worker's agent races its own write_file tool from its bash: a directory of the clone is swapped for a
 * symlink to the dependency cache while the tool writes into that directory. What the tool creates must
 * be handed to the sandbox user without ever reaching the shared, root-owned cache file.
 */

const RACE_MS = 15_000;
const driver = new LocalDriver();
const projectId = `race-${randomBytes(3).toString("hex")}`;
let root: string;

afterAll(async () => {
  driver.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const digest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe.skipIf(process.getuid?.() !== 0)("the worker's write_file tool against a swapping sandbox", () => {
  it("hands what it creates to the sandbox user, never the shared cache file", {
    timeout: 120_000,
  }, async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "kiln-agent-race-"));
    const cacheDir = path.join(root, "cache", "react-dom");
    await mkdir(cacheDir, { recursive: true });
    const shared = path.join(cacheDir, "index.js");
    await writeFile(shared, "module.exports = require('./cjs/react-dom.js');\n", { mode: 0o444 });
    const content = digest(shared);
    // The job's clone, with its dependencies linked from the cache, handed over as the job runner does.
    const clone = path.join(root, "work", "job-1");
    await mkdir(path.join(clone, "node_modules", "react-dom"), { recursive: true });
    await link(shared, path.join(clone, "node_modules", "react-dom", "index.js"));
    const owner = driver.workspaceOwner(projectId)!;
    await chownWorkspace(clone, owner.uid, owner.gid);
    expect(statSync(shared).uid).toBe(0);

    const workspace = sandboxedWorkspace(clone, projectId, driver, owner);
    const ctx: ToolContext = {
      workspace,
      signal: new AbortController().signal,
      messageId: "m",
      toolCallId: "t",
      state: new Map(),
      emit() {},
      onRunEnd() {},
    };
    const swapping = workspace.exec(`node -e '${directorySwapper(cacheDir, RACE_MS)}'`, {
      timeoutMs: RACE_MS + 20_000,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    let written = 0;
    const end = Date.now() + RACE_MS - 1_500;
    const writer = async () => {
      while (Date.now() < end && statSync(shared).uid === 0) {
        const out = await executeTool(writeFileTool, { path: "d/index.js", content: "pwned();\n" }, ctx);
        if (!out.isError) written++;
      }
    };
    await Promise.all([writer(), writer(), writer()]);
    const swapped = await swapping;
    expect(swapped.stdout, swapped.stderr).toMatch(/swaps \d+/);

    expect({ uid: statSync(shared).uid, gid: statSync(shared).gid }).toEqual({ uid: 0, gid: 0 });
    expect(digest(shared)).toBe(content);
    // Writes got through while the swapper ran: a handful on a loaded machine, dozens on an idle one.
    expect(written).toBeGreaterThanOrEqual(5);
    // What the tool makes is the sandbox user's: the new directories too, through their descriptors.
    const fresh = await executeTool(writeFileTool, { path: "fresh/deep/file.txt", content: "x" }, ctx);
    expect(fresh.isError, fresh.output).toBe(false);
    for (const rel of ["fresh", "fresh/deep", "fresh/deep/file.txt"]) {
      expect(statSync(path.join(clone, rel)).uid, rel).toBe(owner.uid);
    }
  });
});
