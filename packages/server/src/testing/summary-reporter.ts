import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints the slowest test files (where the suite's time goes — keep it well under 20 minutes) and one plain
 * closing line, `tests: N passed, N failed, N skipped`, that CI tooling can read.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (mod.state() === "failed" && mod.children.size === 0) failed++;
    }
    const files = testModules
      .map((mod) => ({
        project: mod.project.name,
        name: `${mod.project.name} ${mod.relativeModuleId}`,
        ms: mod.diagnostic().duration,
      }))
      .sort((a, b) => b.ms - a.ms);
    const slowest = files.slice(0, 12);
    const byProject = new Map<string, { ms: number; n: number }>();
    for (const f of files) {
      const sum = byProject.get(f.project) ?? { ms: 0, n: 0 };
      byProject.set(f.project, { ms: sum.ms + f.ms, n: sum.n + 1 });
    }
    if (byProject.size > 1) {
      process.stdout.write("\ntest time by project (summed over files):\n");
      for (const [name, { ms, n }] of [...byProject].sort((a, b) => b[1].ms - a[1].ms))
        process.stdout.write(`  ${(ms / 1000).toFixed(0).padStart(6)} s  ${name} (${n} files)\n`);
      // Every file's time, for finding where the suite's time goes.
      writeFileSync(path.join(os.tmpdir(), "kiln-test-timings.json"), JSON.stringify(files, null, 1));
    }
    if (slowest.length > 1) {
      process.stdout.write("\nslowest test files:\n");
      for (const f of slowest)
        process.stdout.write(`  ${(f.ms / 1000).toFixed(1).padStart(6)} s  ${f.name}\n`);
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
