import { defineConfig } from "vitest/config";
import { BROWSER_GONE } from "./e2e/browser-gone.ts";

const integration = ["packages/*/src/**/*.int.test.ts", "bench/**/*.int.test.ts"];
/** Multi-process system tests (real `kiln start` / `kiln worker` processes, faults): once, on PostgreSQL. */
const system = ["packages/*/src/**/*.sys.test.ts"];
const web = ["packages/web/src/**/*.test.ts"];

/**
 * Plain unit tests once, every integration test (`*.int.test.ts`) twice — on embedded PGlite and on the
 * real PostgreSQL at 127.0.0.1:5432 (a fresh database per run) —, the multi-process system tests
 * (`*.sys.test.ts`) once on PostgreSQL, and the browser tests in e2e/ once.
 */
export default defineConfig({
  test: {
    reporters: ["default", "./packages/server/src/testing/summary-reporter.ts"],
    testTimeout: 30_000,
    // Vitest's default (cores - 1) runs one file at a time on a two-core CI machine; most integration files
    // wait on processes, sandboxes and the database, so two at once roughly halve the wall time.
    maxWorkers: 2,
    hookTimeout: 60_000,
    // Node runs the server's TypeScript itself (ADR 0001): importing it natively instead of through Vite's
    // module runner saves every file seconds of transforming and evaluating the app's module graph.
    experimental: { viteModuleRunner: false, nodeLoader: false },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts"],
          isolate: false,
          exclude: [...integration, ...system, ...web],
        },
      },
      {
        extends: true,
        test: {
          // The studio's code is TSX and Vite-resolved: through Vite's module runner.
          name: "web",
          include: web,
          experimental: { viteModuleRunner: true },
        },
      },
      {
        extends: true,
        test: {
          name: "pglite",
          include: integration,
          isolate: false,
          env: { KILN_TEST_DB: "pglite" },
          globalSetup: ["./packages/server/src/testing/pglite-setup.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: integration,
          isolate: false,
          env: { KILN_TEST_DB: "postgres" },
          globalSetup: ["./packages/server/src/testing/postgres-setup.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "system",
          include: system,
          env: { KILN_TEST_DB: "postgres" },
          globalSetup: ["./packages/server/src/testing/postgres-setup.ts"],
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          // Playwright specs against a real Kiln (PGlite) and Debian's Chromium (scripts/setup-system.sh).
          name: "e2e",
          include: ["e2e/**/*.e2e.ts"],
          env: { KILN_TEST_DB: "pglite" },
          // The studio's browser tests run against a current build of packages/web.
          globalSetup: ["./e2e/build-web.ts", "./packages/server/src/testing/pglite-setup.ts"],
          setupFiles: ["./e2e/browser-crash.setup.ts"],
          // Once, and only when Chromium itself died mid-test (e2e/browser-gone.ts).
          retry: { count: 1, condition: BROWSER_GONE },
          testTimeout: 150_000,
          hookTimeout: 120_000,
          // A browser on a loaded two-core machine: `expect.poll`'s one-second default fails waits that a
          // user would not notice (a list still loading). Longer polls cost a passing test nothing.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
