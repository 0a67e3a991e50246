import { defineConfig } from "vitest/config";

const integration = ["packages/*/src/**/*.int.test.ts", "bench/**/*.int.test.ts"];

/**
 * Three projects: plain unit tests once, and every integration test (`*.int.test.ts`) twice — on
 * embedded PGlite and on the real PostgreSQL at 127.0.0.1:5432 (a fresh database per run).
 */
export default defineConfig({
  test: {
    reporters: ["default", "./packages/server/src/testing/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts"],
          exclude: integration,
        },
      },
      {
        extends: true,
        test: {
          name: "pglite",
          include: integration,
          env: { KILN_TEST_DB: "pglite" },
        },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: integration,
          env: { KILN_TEST_DB: "postgres" },
          globalSetup: ["./packages/server/src/testing/postgres-setup.ts"],
        },
      },
    ],
  },
});
