import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AddressPolicy } from "@kiln/agent";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp, type Services } from "./app.ts";
import { AccountService } from "./auth/account.ts";
import { ApiTokenService } from "./auth/api-tokens.ts";
import { CsrfTokens } from "./auth/csrf.ts";
import { EmailVerificationService } from "./auth/email-verification.ts";
import { RateLimiter } from "./auth/rate-limiter.ts";
import { AuthService } from "./auth/service.ts";
import { AccessTokens } from "./auth/tokens.ts";
import { createTaskBoard } from "./board/tasks/index.ts";
import { onJobFinished } from "./board/tasks/job-results.ts";
import { TaskReviews } from "./board/tasks/review.ts";
import { createChats } from "./chats/index.ts";
import { pruneChatEvents } from "./chats/retention.ts";
import type { KilnConfig } from "./config.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { lockDataDir } from "./db/data-dir-lock.ts";
import { scheduleHousekeeping } from "./db/housekeeping.ts";
import { loggerOptions } from "./db/log-safe.ts";
import { migrateAll } from "./db/migrate.ts";
import { createDevServers } from "./devserver/index.ts";
import type { DevServerManager } from "./devserver/manager.ts";
import { prewarmWorkspace } from "./devserver/prewarm.ts";
import { FileEvents } from "./files/events.ts";
import { FileService } from "./files/service.ts";
import { FileWatches } from "./files/watches.ts";
import { GitAccess } from "./git/access.ts";
import { GitBackend } from "./git/backend.ts";
import { ProjectHistory } from "./history/service.ts";
import { InvitationService } from "./invitations/service.ts";
import { compactJobEvents } from "./jobs/compaction.ts";
import { createJobs } from "./jobs/index.ts";
import { Limits } from "./limits/index.ts";
import { LlmService } from "./llm/service.ts";
import { LogMailer, type Mailer } from "./mail/mailer.ts";
import { SmtpMailer } from "./mail/smtp-mailer.ts";
import { MemberService } from "./members/service.ts";
import { OrgService } from "./orgs/service.ts";
import { PreviewTokens } from "./preview/access.ts";
import { createPreview } from "./preview/index.ts";
import { PreviewLinks } from "./preview/links.ts";
import { ProjectEnvService } from "./projects/env.ts";
import { forgetDeleted } from "./projects/forget.ts";
import { ProjectService } from "./projects/service.ts";
import { ProjectStorage } from "./projects/storage.ts";
import { ProjectTouches } from "./projects/touch.ts";
import {
  DisabledDriver,
  openSandboxDriver,
  type SandboxDriver,
  SandboxUnavailableError,
} from "./sandbox/index.ts";
import { loadMasterKey } from "./secrets/master-key.ts";
import { deriveKey, SecretBox } from "./secrets/secret-box.ts";
import { TemplateRegistry } from "./templates/registry.ts";
import { TemplateService } from "./templates/service.ts";
import { SpareWorkspaces } from "./templates/spares.ts";
import { TerminalService } from "./terminal/service.ts";

export interface Kiln {
  app: FastifyInstance;
  services: Services;
  database: Database;
  mailer: Mailer;
  secrets: SecretBox;
  storage: ProjectStorage;
  /** File changes made through the file API; the dev servers and live reload subscribe. */
  fileEvents: FileEvents;
  driver: SandboxDriver;
  devServers: DevServerManager;
  /** Aggregate limits per org, user and project (limits/). */
  limits: Limits;
  timings: { dbOpenMs: number; migrateMs: number; appMs: number };
  /** Project workspaces made ahead of time (filled by `warmTemplateCaches`). */
  spares: SpareWorkspaces;
  /**
   * Installs template dependency caches, then makes spare workspaces, in the background (`kiln start`);
   * logs, never throws.
   */
  warmTemplateCaches(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateKilnOptions {
  /** An already-open database (tests share one); otherwise opened from the config. */
  database?: Database;
  logger?: FastifyBaseLogger;
  mailer?: Mailer;
  /** Told as each start-up step begins (`kiln start` shows it on the console). */
  onProgress?: (step: StartupStep) => void;
}

export type StartupStep = "database" | "migrations" | "app";

const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../web/dist");
const PLACEHOLDER_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../web/public");

export async function createKiln(config: KilnConfig, options: CreateKilnOptions = {}): Promise<Kiln> {
  const logger = options.logger ?? (pino(loggerOptions(config.logLevel)) as FastifyBaseLogger);
  const t0 = performance.now();
  const embedded = !options.database && !config.databaseUrl;
  const unlock = embedded ? await lockDataDir(config.dataDir) : async () => {};
  let database: Database;
  options.onProgress?.("database");
  try {
    database =
      options.database ??
      (await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: path.join(config.dataDir, "db") }));
  } catch (err) {
    await unlock();
    throw err;
  }
  const t1 = performance.now();
  try {
    options.onProgress?.("migrations");
    await migrateAll(database);
    const t2 = performance.now();
    options.onProgress?.("app");
    const masterKey = await loadMasterKey(config.dataDir, config.secretKey);
    const secrets = new SecretBox(masterKey);
    const driver = await openDriver(config, logger);
    const storage = new ProjectStorage(config.dataDir, {
      ownerOf: (projectId) => driver.workspaceOwner(projectId),
    });
    const templates = new TemplateService(
      await TemplateRegistry.load(config.templatesDir),
      config.templateCacheDir,
      logger,
      { guestUid: driver.guestUid },
    );
    const mailer =
      options.mailer ??
      (config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.smtpFrom) : new LogMailer(logger));
    const limits = new Limits({
      config: config.limits,
      dirOf: (orgId, projectId) => storage.projectDir(orgId, projectId),
      ownerOf: (projectId) => driver.workspaceOwner(projectId),
      log: logger,
    });
    const orgs = new OrgService(database, storage, config.limits);
    const spares = new SpareWorkspaces({
      root: path.join(storage.root, ".spares"),
      templates,
      ownerOf: (projectId) => driver.workspaceOwner(projectId),
      // Its first page load's work done ahead (Vite's dependencies), in its own sandbox, as its own user.
      warm: (spare, template, signal) =>
        prewarmWorkspace(
          driver,
          {
            projectId: spare.id,
            workspaceDir: spare.dir,
            limits: { cpu: Math.max(1, availableParallelism()) },
          },
          template.manifest,
          { signal },
        ),
      log: logger,
    });
    const projects = new ProjectService(database, storage, templates, {
      ownerOf: (projectId) => driver.workspaceOwner(projectId),
      spares,
      limits: config.limits,
    });
    const projectEnv = new ProjectEnvService({
      database,
      secrets,
      projects,
      orgRow: (orgId) => orgs.row(orgId),
      log: logger,
    });
    const fileEvents = new FileEvents();
    // Every announced change of a project's files (API, merge, restore, push) moves its "updated" time.
    const touches = new ProjectTouches({ database, schemaOf: (orgId) => orgs.row(orgId), log: logger });
    fileEvents.on((change) => touches.touch(change.orgId, change.projectId));
    const previewTokens = new PreviewTokens(deriveKey(masterKey, "preview"));
    const { manager: devServers, service: devServer } = createDevServers({
      driver,
      storage,
      templates,
      limits,
      projects,
      env: projectEnv,
      fileEvents,
      links: new PreviewLinks(previewTokens, config.publicUrl, config.appDomain),
      hibernateAfterMinutes: config.hibernateAfterMinutes,
      log: logger,
    });
    const terminals = new TerminalService({
      projects,
      driver,
      limits,
      idleMs: config.terminalIdleMinutes * 60_000,
      log: logger,
      sandboxFor: async (orgId, projectId) => ({
        projectId,
        workspaceDir: storage.projectDir(orgId, projectId),
        network: "egress",
        env: await projectEnv.forProject(orgId, projectId),
      }),
    });
    const {
      gateway: preview,
      errors: previewErrors,
      handoffs: previewHandoffs,
    } = createPreview({
      database,
      tokens: previewTokens,
      publicUrl: config.publicUrl,
      appDomain: config.appDomain,
      devServers,
    });
    const history = new ProjectHistory({ storage, driver, events: fileEvents });
    const git = {
      access: new GitAccess({ database, orgs, projects }),
      backend: new GitBackend({
        storage,
        driver,
        history,
        events: fileEvents,
        limits: config.git,
        disk: limits.disk,
      }),
    };
    // One address policy for every server-side fetch to a destination a tenant chose (model providers,
    // web_fetch); the operator's KILN_EGRESS_ALLOW is its only exemption.
    const egress = new AddressPolicy({ allow: config.egressAllow });
    const llm = new LlmService({
      database,
      secrets,
      config: config.llm,
      egress,
      log: logger,
      dataDir: config.dataDir,
    });
    const files = new FileService(projects, storage, {
      events: fileEvents,
      ownerOf: (projectId) => driver.workspaceOwner(projectId),
      disk: limits.disk,
    });
    const {
      chats,
      engine: chatEngine,
      starter: projectStarter,
    } = createChats({
      database,
      config,
      log: logger,
      embedded,
      projects,
      env: projectEnv,
      files,
      devServer,
      driver,
      storage,
      models: llm.gateway,
      history,
      previewErrors,
      egress,
      limits,
      touches,
      templateNames: () => templates.list().map((t) => t.name),
    });
    await chatEngine.recover();
    chatEngine.startSweeping();
    const stopHousekeeping = scheduleHousekeeping(
      [
        {
          name: "prune chat events",
          run: async () => {
            if (config.chatEventsDays <= 0) return undefined;
            const done = await pruneChatEvents(database, config.chatEventsDays * 86_400_000);
            return done.turns || done.failedOrgs ? done : undefined;
          },
        },
        {
          name: "prune used preview hand-offs",
          run: async () => {
            const tokens = await previewHandoffs.prune();
            return tokens ? { tokens } : undefined;
          },
        },
        {
          name: "compact job events",
          run: async () => {
            // An hour after a job ends nobody follows its log live; its text chunks become one event each.
            const done = await compactJobEvents(database, 3_600_000);
            return done.jobs ? done : undefined;
          },
        },
      ],
      logger,
    );
    await chatEngine.listen();
    const fileWatches = new FileWatches();
    const board = createTaskBoard({ database, projects, log: logger });
    const jobs = createJobs({ database, config, log: logger });
    board.automation.useJobStarter(jobs);
    jobs.onFinished(onJobFinished({ database, orgs, commands: board.tasks.commands, log: logger }));
    const reviews = new TaskReviews({ database, projects, commands: board.tasks.commands, history, jobs });
    git.access.useJobTokens({ verify: (token) => jobs.verifyJobToken(token) });
    // What a deleted project or org leaves outside its schema and files, in this order: the preview stops
    // resolving its hosts, its dev server, terminals and agent turns stop (so nothing writes into removed
    // files), then caches and queued jobs go.
    forgetDeleted({ orgs, projects }, [preview, devServers, terminals, chatEngine, previewErrors, llm, jobs]);
    await jobs.start();
    const verification = new EmailVerificationService({
      database,
      mailer,
      codeKey: deriveKey(masterKey, "email-verification-code"),
      // A code mailed at most 5 times an hour per account and 10 times an hour per address (every
      // sign-up naming it mails one), and at most 10 codes typed per quarter hour per account.
      sendLimiter: new RateLimiter(database, 5, 3600),
      addressLimiter: new RateLimiter(database, 10, 3600),
      attemptLimiter: new RateLimiter(database, 10, 900),
      options: { publicUrl: config.publicUrl, log: logger },
    });
    const services: Services = {
      database,
      orgs,
      verification,
      account: new AccountService({
        database,
        verification,
        passwordLimiter: new RateLimiter(database, config.loginMaxAttempts, config.loginWindowSeconds),
        log: logger,
      }),
      auth: new AuthService({
        database,
        orgs,
        access: new AccessTokens(deriveKey(masterKey, "jwt"), config.accessTokenTtlSeconds),
        csrf: new CsrfTokens(deriveKey(masterKey, "csrf")),
        loginLimiter: new RateLimiter(database, config.loginMaxAttempts, config.loginWindowSeconds),
        verification,
        log: logger,
        options: {
          signupOpen: config.signupOpen,
          refreshTokenTtlDays: config.refreshTokenTtlDays,
          refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
        },
      }),
      apiTokens: new ApiTokenService(database),
      members: new MemberService(database),
      invitations: new InvitationService(database, mailer, {
        publicUrl: config.publicUrl,
        ttlDays: config.invitationTtlDays,
        log: logger,
      }),
      projects,
      projectEnv,
      files,
      fileWatches,
      templates,
      devServer,
      preview,
      terminals,
      llm,
      history,
      previewErrors,
      chats,
      projectStarter,
      tasks: board.tasks,
      reviews,
      workflows: board.workflows,
      automation: board.automation,
      git,
      jobs,
    };
    const webDir = existsSync(DEFAULT_WEB_DIR) ? DEFAULT_WEB_DIR : PLACEHOLDER_WEB_DIR;
    const app = await buildApp(services, { config, logger, webDir });
    await app.ready();
    const t3 = performance.now();
    return {
      app,
      services,
      database,
      mailer,
      secrets,
      storage,
      fileEvents,
      driver,
      devServers,
      limits,
      timings: { dbOpenMs: t1 - t0, migrateMs: t2 - t1, appMs: t3 - t2 },
      spares,
      // Then spare workspaces, so the first project is one rename away.
      warmTemplateCaches: () => templates.warmTemplateCaches().then(() => spares.fill()),
      async close() {
        templates.close();
        spares.close();
        limits.close();
        preview.close();
        history.close();
        git.backend.close();
        stopHousekeeping();
        await chatEngine.close();
        await jobs.close();
        await app.close();
        fileWatches.close();
        await Promise.all([devServers.close(), terminals.close(), llm.close()]);
        await touches.close();
        driver.close?.();
        if (mailer instanceof SmtpMailer) mailer.close();
        if (!options.database) await database.close();
        await unlock();
      },
    };
  } catch (err) {
    if (!options.database) await database.close();
    await unlock();
    throw err;
  }
}

async function openDriver(config: KilnConfig, logger: FastifyBaseLogger): Promise<SandboxDriver> {
  try {
    const { driver, check } = await openSandboxDriver({ allowUnsandboxed: config.allowUnsandboxed });
    for (const warning of check.warnings) logger.warn({ driver: driver.name }, warning);
    if (driver.unsandboxed)
      logger.error("KILN_ALLOW_UNSANDBOXED=1: project code runs UNSANDBOXED on this host");
    return driver;
  } catch (err) {
    if (!(err instanceof SandboxUnavailableError)) throw err;
    // The studio stays usable (accounts, projects, files); running project code is refused with the reason.
    logger.error({ problems: err.problems }, err.message);
    return new DisabledDriver(err);
  }
}
