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
    const slowest = testModules
      .map((mod) => ({
        name: `${mod.project.name} ${mod.relativeModuleId}`,
        ms: mod.diagnostic().duration,
      }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 12);
    if (slowest.length > 1) {
      process.stdout.write("\nslowest test files:\n");
      for (const f of slowest)
        process.stdout.write(`  ${(f.ms / 1000).toFixed(1).padStart(6)} s  ${f.name}\n`);
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
