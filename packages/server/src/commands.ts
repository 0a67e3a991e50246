/**
 * What `kiln` does with its arguments (cli.ts loads this once Node's compile cache is on).
 */
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { defaultPublicUrl, type KilnConfig, loadConfig } from "./config.ts";
import { createKiln, type StartupStep } from "./kiln.ts";
import { sandboxLine } from "./sandbox/sandbox-line.ts";
import { prepareTemplates } from "./templates/prepare-command.ts";
import { VERSION } from "./version.ts";
import { KilnWorker } from "./worker/client.ts";
import { localServerUrl, WORKER_USAGE, workerCommand } from "./worker/command.ts";

const USAGE = `kiln ${VERSION}

Usage:
  kiln start      run the studio (PORT, HOST, KILN_DATA_DIR, DATABASE_URL, LOG_LEVEL)
  kiln migrate    apply database migrations and exit
  kiln prepare-templates
                  install the templates' dependencies once for every data dir (npm install runs it)
${WORKER_USAGE}
  kiln --version
`;

async function start(): Promise<void> {
  const config = loadConfig();
  // The embedded worker authenticates like any other, with the instance's worker token.
  if (config.agent.embeddedWorkers > 0) config.jobs.instanceWorkerToken ??= randomBytes(24).toString("hex");
  const kiln = await createKiln(config, { onProgress: startupProgress(config) });
  let worker: KilnWorker | undefined;
  const log = kiln.app.log;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    // A second signal, or a hung close, must not keep the process alive forever.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      await worker?.stop();
      await kiln.close();
      process.stdout.write("Kiln stopped\n");
      process.exit(0);
    } catch (err) {
      log.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  await kiln.app.listen({ port: config.port, host: config.host });
  const address = kiln.app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  // The studio's public URL, the origin its cookies and Origin checks belong to (PORT=0: the port chosen).
  const shown = port === config.port ? config.publicUrl : defaultPublicUrl(config.host, port);
  log.info(
    { database: kiln.database.kind, dataDir: config.dataDir, timings: kiln.timings },
    `Kiln is running at ${shown}`,
  );
  process.stdout.write(`\n  Kiln ${VERSION} is running at ${shown}\n`);
  process.stdout.write(`  ${await sandboxLine(kiln.driver)}\n\n`);
  // In the background: the first project from a template should not wait for npm.
  void kiln.warmTemplateCaches();
  if (config.agent.embeddedWorkers > 0 && !kiln.driver.unsandboxed && (await kiln.driver.check()).ok) {
    worker = new KilnWorker({
      server: localServerUrl(typeof address === "object" && address ? address.address : config.host, port),
      token: config.jobs.instanceWorkerToken!,
      concurrency: config.agent.embeddedWorkers,
      name: "embedded",
      driver: kiln.driver,
      workDir: path.join(config.dataDir, "worker"),
      log,
    });
    await mkdir(path.join(config.dataDir, "worker"), { recursive: true });
    const embedded = worker;
    void embedded.start().then(() => log.info({ workerId: embedded.workerId }, "embedded worker connected"));
  }
}

async function migrate(): Promise<void> {
  const config = loadConfig();
  const kiln = await createKiln(config);
  await kiln.close();
  process.stdout.write("migrations applied\n");
}

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  switch (command) {
    case "start":
      return start();
    case "migrate":
      return migrate();
    case "prepare-templates":
      // Run by `npm install`: a failure here must not fail the install (`kiln start` builds its own).
      return prepareTemplates(loadConfig(), (line) => process.stdout.write(`kiln: ${line}\n`)).catch(
        (err: Error) =>
          void process.stdout.write(`kiln: warning: template caches not prepared: ${err.message}\n`),
      );
    case "worker":
      return workerCommand(argv.slice(1));
    case "--version":
    case "-v":
      process.stdout.write(`${VERSION}\n`);
      return;
    default:
      process.stdout.write(USAGE);
      if (command && command !== "--help" && command !== "-h") process.exitCode = 2;
  }
}

/**
 * What the console says while Kiln starts: the database step can take seconds (the embedded database's first
 * start creates it), so it is named, and a wait of more than a few seconds is counted aloud.
 */
function startupProgress(config: KilnConfig): (step: StartupStep) => void {
  const t0 = performance.now();
  let ticker: NodeJS.Timeout | undefined;
  const seconds = () => ((performance.now() - t0) / 1000).toFixed(0);
  return (step) => {
    clearInterval(ticker);
    if (step === "database") {
      process.stdout.write(
        config.databaseUrl
          ? "  Connecting to PostgreSQL…\n"
          : `  Opening the embedded database in ${path.join(config.dataDir, "db")}…\n`,
      );
      ticker = setInterval(() => {
        const first = config.databaseUrl ? "" : " (a first start creates it: this can take a while)";
        process.stdout.write(`  … still opening the database, ${seconds()} s${first}\n`);
      }, 5_000);
      ticker.unref();
    } else if (step === "migrations") process.stdout.write(`  Database open in ${seconds()} s; migrating…\n`);
  };
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`kiln: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
