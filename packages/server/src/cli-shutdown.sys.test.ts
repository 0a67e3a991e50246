import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort } from "./testing/free-port.ts";
import { type ServerProcess, startServerProcess, untilPrinted } from "./testing/processes.ts";

/**
 * `kiln start` stopped as an operator stops it (SIGTERM) with its embedded worker connected, on the embedded
 * database as `npm start` runs it: the worker's disconnect is recorded before the database closes, so a stop
 * logs nothing worse than info (issue #12: "recording a worker's disconnect failed" on every stop).
 */

let server: ServerProcess | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  await server?.stop("SIGKILL");
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it("stops with its embedded worker connected and logs no warning or error while closing", async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-sys-shutdown-"));
  const env: NodeJS.ProcessEnv = { KILN_EMBEDDED_WORKERS: "1", LOG_LEVEL: "info", DATABASE_URL: "" };
  server = await startServerProcess({ dataDir, port: await freePort(), env });
  await untilPrinted(server, /kiln worker \S+ connected|worker connected/i, 60_000);
  expect(await server.stop("SIGTERM")).toBe(0);
  const out = server.output();
  const closing = out.indexOf("shutting down");
  expect(closing, out).toBeGreaterThan(-1);
  const after = out.slice(closing).split("\n");
  // pino's JSON lines: 40 is warn, 50 error, 60 fatal.
  const bad = after.filter((line) => /"level":(4|5|6)0/.test(line) || /\b(WARN|ERROR|FATAL)\b/.test(line));
  expect(bad, out.slice(closing)).toEqual([]);
  expect(out).toContain("Kiln stopped");
}, 120_000);
