import { mkdir, rm } from "node:fs/promises";
import { isIP } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { loggerOptions } from "../db/log-safe.ts";
import { openSandboxDriver } from "../sandbox/index.ts";
import { sandboxLine } from "../sandbox/sandbox-line.ts";
import { KilnWorker } from "./client.ts";

export const WORKER_USAGE = `  kiln worker --server URL --token T [--concurrency N] [--work-dir DIR] [--name NAME]
                  run agent jobs for a Kiln server (token also from KILN_WORKER_TOKEN)`;

/** `kiln worker`: a stateless process that takes jobs from a server until SIGTERM/SIGINT. */
export async function workerCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      concurrency: { type: "string", default: "1" },
      "work-dir": { type: "string" },
      name: { type: "string" },
    },
    strict: true,
  });
  const server = values.server ?? process.env.KILN_SERVER_URL;
  const token = values.token ?? process.env.KILN_WORKER_TOKEN;
  const concurrency = Number(values.concurrency);
  if (!server || !/^https?:\/\//.test(server)) throw new Error("--server http(s)://… is required");
  if (!token) throw new Error("--token (or KILN_WORKER_TOKEN) is required");
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32)
    throw new Error("--concurrency must be 1–32");
  const log = pino(loggerOptions(process.env.LOG_LEVEL ?? "info")) as FastifyBaseLogger;
  const { driver } = await openSandboxDriver({
    allowUnsandboxed: process.env.KILN_ALLOW_UNSANDBOXED === "1",
    onOrphansEnded: (groups) =>
      log.warn({ groups }, "ended sandboxes that a Kiln process on this host left when it died"),
  });
  // Like `kiln start`: whoever runs a worker must see whether (and how well) it isolates project code.
  process.stdout.write(`kiln worker: ${await sandboxLine(driver)}\n`);
  const workDir = path.resolve(values["work-dir"] ?? path.join(os.tmpdir(), `kiln-worker-${process.pid}`));
  await mkdir(workDir, { recursive: true });
  const worker = new KilnWorker({
    server,
    token,
    concurrency,
    driver,
    workDir,
    log,
    ...(values.name ? { name: values.name } : {}),
  });
  // Signals first: a worker still dialling a server that is down must stop cleanly too.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      void worker.stop().then(resolve);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  void worker.start().then(() => {
    process.stdout.write(
      `kiln worker ${worker.workerId} connected to ${server} (concurrency ${concurrency})\n`,
    );
  });
  await stopped;
  // The driver's run directory (generated /etc, API sockets) goes with the process, and so does a work
  // directory it made for itself (one given with --work-dir is the operator's).
  driver.close?.();
  if (!values["work-dir"]) await rm(workDir, { recursive: true, force: true });
}

/**
 * How a worker on the server's own host (the embedded one) dials it: through loopback when the server
 * listens on every address, else at the one address it listens on (127.0.0.1 would be refused there).
 */
export function localServerUrl(address: string, port: number): string {
  if (address === "0.0.0.0" || address === "::" || address === "") return `http://127.0.0.1:${port}`;
  return `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}
