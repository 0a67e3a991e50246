import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AddressPolicy, createEgressFetch } from "@kiln/agent";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import pino from "pino";
import { AdminOrgs, AdminService, InstanceAdmins, SignupPolicies } from "./admin/index.ts";
import { AgentService } from "./agents/service.ts";
import { buildApp, type Services } from "./app.ts";
import { ProjectArchives } from "./archive/service.ts";
import { AuditLog } from "./audit/index.ts";
import { AccountService } from "./auth/account.ts";
import { AccountDeletionService } from "./auth/account-deletion.ts";
import { ApiTokenService } from "./auth/api-tokens.ts";
import { CsrfTokens } from "./auth/csrf.ts";
import { EmailVerificationService } from "./auth/email-verification.ts";
import { OidcClients } from "./auth/oidc/clients.ts";
import { OrgSsoService } from "./auth/oidc/org-sso.ts";
import { OidcService } from "./auth/oidc/service.ts";
import { PasswordResetService } from "./auth/password-reset.ts";
import { RateLimiter } from "./auth/rate-limiter.ts";
import { AuthService } from "./auth/service.ts";
import { AccessTokens } from "./auth/tokens.ts";
import { createTaskBoard } from "./board/tasks/index.ts";
import { onJobFinished } from "./board/tasks/job-results.ts";
import { TaskReviews } from "./board/tasks/review.ts";
import { createBudgets } from "./budgets/index.ts";
import { createChats } from "./chats/index.ts";
import { pruneChatEvents } from "./chats/retention.ts";
import type { KilnConfig } from "./config.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { lockDataDir } from "./db/data-dir-lock.ts";
import { scheduleHousekeeping } from "./db/housekeeping.ts";
import { loggerOptions } from "./db/log-safe.ts";
import { migrateAll } from "./db/migrate.ts";
import { createDeployments } from "./deployments/index.ts";
import { createDevServers } from "./devserver/index.ts";
import type { DevServerManager } from "./devserver/manager.ts";
import { prewarmWorkspace } from "./devserver/prewarm.ts";
import { dnsChallengeLookup } from "./domains/dns-check.ts";
import { createDomains } from "./domains/index.ts";
import { FileEvents } from "./files/events.ts";
import { FileService } from "./files/service.ts";
import { FileWatches } from "./files/watches.ts";
import { GitAccess } from "./git/access.ts";
import { GitBackend } from "./git/backend.ts";
import { GitHostActions } from "./git-hosts/actions.ts";
import { GitHostService } from "./git-hosts/service.ts";
import { ProjectHistory } from "./history/service.ts";
import { InvitationService } from "./invitations/service.ts";
import { compactJobEvents } from "./jobs/compaction.ts";
import { createJobs } from "./jobs/index.ts";
import { Limits } from "./limits/index.ts";
import { LlmService } from "./llm/service.ts";
import { LogMailer, type Mailer } from "./mail/mailer.ts";
import { SmtpMailer } from "./mail/smtp-mailer.ts";
import { MarketplaceService } from "./marketplace/service.ts";
import { McpServerService } from "./mcp-client/service.ts";
import { MemberService } from "./members/service.ts";
import { createNotifications } from "./notifications/index.ts";
import { allEvents } from "./orgs/events.ts";
import { OrgService } from "./orgs/service.ts";
import { PreviewTokens } from "./preview/access.ts";
import { createPreview } from "./preview/index.ts";
import { PreviewLinks } from "./preview/links.ts";
import { ProjectEnvService } from "./projects/env.ts";
import { forgetDeleted } from "./projects/forget.ts";
import { ProjectService } from "./projects/service.ts";
import { ProjectStorage } from "./projects/storage.ts";
import { ProjectTouches } from "./projects/touch.ts";
import { GitRemotes } from "./remotes/service.ts";
import { GitTransfers } from "./remotes/transfer.ts";
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
import { createWebhooks } from "./webhooks/index.ts";

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
      (await openDatabase({
        databaseUrl: config.databaseUrl,
        pgliteDir: path.join(config.dataDir, "db"),
        pgliteInProcess: !config.pgliteThread,
      }));
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
      onRemoved: (projectId) => void driver.forget?.(projectId)?.catch(() => {}),
    });
    const templates = new TemplateService(
      await TemplateRegistry.load(config.templatesDir),
      config.templateCacheDir,
      logger,
      {
        guestUid: driver.guestUid,
        ...(config.installedTemplateCacheDir ? { installed: config.installedTemplateCacheDir } : {}),
      },
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
      shares: shareLinks,
    } = createPreview({
      database,
      projects,
      tokens: previewTokens,
      publicUrl: config.publicUrl,
      appDomain: config.appDomain,
      devServers,
    });
    const history = new ProjectHistory({ storage, driver, events: fileEvents });
    // One address policy for every server-side fetch to a destination a tenant chose (model providers,
    // web_fetch, deploy targets); the operator's KILN_EGRESS_ALLOW is its only exemption.
    const egress = new AddressPolicy({ allow: config.egressAllow });
    const webhooks = createWebhooks({ database, secrets, egress, projects, orgs, config, log: logger });
    const notifications = createNotifications({
      database,
      mailer,
      orgs,
      publicUrl: config.publicUrl,
      emailDelayMs: config.notifyEmailDelayMs,
      log: logger,
    });
    // What happened in an org reaches its webhooks and the people it concerns.
    const orgEvents = allEvents(webhooks.events, notifications.triggers.events);
    const {
      service: deployments,
      targets: deployTargets,
      sites,
      processes: siteProcesses,
      versions,
      collect: collectArtifacts,
    } = createDeployments({
      database,
      events: orgEvents,
      idleMs: config.hibernateAfterMinutes * 60_000,
      dataDir: config.dataDir,
      publicUrl: config.publicUrl,
      publishDomain: config.publishDomain,
      projects,
      templates,
      storage,
      driver,
      limits,
      env: projectEnv,
      history,
      secrets,
      egress,
      targets: config.deployTargets,
      log: logger,
    });
    const domains = createDomains({
      database,
      projects,
      sites,
      publicUrl: config.publicUrl,
      appDomain: config.appDomain,
      publishDomain: config.publishDomain,
      dnsServers: config.dnsServers,
    });
    const archives = new ProjectArchives({
      projects,
      storage,
      history,
      manifestOf: (template) => {
        try {
          return templates.get(template).manifest;
        } catch {
          return undefined; // a template this server no longer has
        }
      },
      ownerOf: (projectId) => driver.workspaceOwner(projectId),
      spoolDir: path.join(config.dataDir, "tmp", "imports"),
    });
    const git = {
      access: new GitAccess({ database, orgs, projects }),
      backend: new GitBackend({
        storage,
        driver,
        history,
        events: fileEvents,
        limits: config.git,
        disk: limits.disk,
        // A project's warm git sandbox is one of its live sandboxes (org budgets, disk watchdog).
        warmDriver: (orgId, projectId) => limits.guard({ kind: "command", orgId, projectId }, driver),
      }),
    };
    const transfers = new GitTransfers({
      driver,
      policy: egress,
      tmpRoot: path.join(config.dataDir, "tmp", "git-transfers"),
      caFile: config.git.caFile,
      maxBytes: config.git.transferMaxBytes,
      timeoutMs: config.git.timeoutMs,
    });
    // Connected git hosts (ADR 0028): their REST APIs through the egress fetch (the operator's CAs too).
    const hosts = new GitHostService({
      database,
      secrets,
      fetch: createEgressFetch(egress, {
        ...(config.extraCaFile ? { ca: readFileSync(config.extraCaFile, "utf8") } : {}),
      }),
    });
    const remotes = {
      remotes: new GitRemotes({
        hosts: {
          credentials: async (org, id) => {
            const host = await hosts.open(org, id);
            return { auth: host.auth, gitOrigin: host.gitOrigin };
          },
        },
        database,
        projects,
        storage,
        history,
        transfers,
        events: fileEvents,
        timeoutMs: config.git.timeoutMs,
        sandboxFor: (orgId, projectId) => limits.guard({ kind: "command", orgId, projectId }, driver),
      }),
      imports: {
        database,
        projects,
        transfers,
        timeoutMs: config.git.timeoutMs,
        sandboxFor: (orgId: string, projectId: string) =>
          limits.guard({ kind: "command", orgId, projectId }, driver),
      },
    };
    // Spend budgets (ADR 0029): the gateway's middleware reserves and settles every model call against them.
    const budgets = createBudgets({ database, mailer, publicUrl: config.publicUrl, log: logger });
    const llm = new LlmService({
      database,
      secrets,
      config: config.llm,
      egress,
      log: logger,
      dataDir: config.dataDir,
      budgets: budgets.ledger,
    });
    const files = new FileService(projects, storage, {
      events: fileEvents,
      ownerOf: (projectId) => driver.workspaceOwner(projectId),
      disk: limits.disk,
    });
    const agents = new AgentService({ database });
    const mcpServers = new McpServerService({ database, secrets, egress });
    const {
      chats,
      engine: chatEngine,
      starter: projectStarter,
    } = createChats({
      database,
      agents,
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
      mcpServers,
    });
    await chatEngine.recover();
    chatEngine.startSweeping();
    const audit = new AuditLog(database);
    const instanceAdmins = new InstanceAdmins(database, config.adminEmails);
    const signupPolicies = new SignupPolicies(database, config.signupOpen);
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
        { name: "collect unused artifacts", run: collectArtifacts },
        {
          name: "prune the audit log",
          run: async () => {
            if (config.auditDays <= 0) return undefined;
            const records = await audit.prune(config.auditDays * 86_400_000);
            return records ? { records } : undefined;
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
    jobs.onFinished(webhooks.onJobFinished);
    jobs.onFinished(notifications.triggers.onJobFinished);
    board.tasks.commands.onEvents(webhooks.onTaskEvents);
    board.tasks.commands.onEvents(notifications.triggers.onTaskEvents);
    const reviews = new TaskReviews({
      database,
      projects,
      commands: board.tasks.commands,
      history,
      jobs,
      // Merged into main: the project's deploy targets with auto-deploy on get it (in the background), and
      // the org's webhooks hear of it.
      onMerged: (org, projectId, userId, merge) => {
        void deployments.autoDeploy(org, projectId, userId);
        webhooks.events.emit(org.id, "review.merged", projectId, { ...merge, mergedBy: userId });
      },
    });
    const gitHosts = {
      hosts,
      actions: new GitHostActions({
        hosts,
        remotes: remotes.remotes,
        imports: remotes.imports,
        reviews,
        tasks: board.tasks,
      }),
    };
    git.access.useJobTokens({ verify: (token) => jobs.verifyJobToken(token) });
    // What a deleted project or org leaves outside its schema and files, in this order: the preview stops
    // resolving its hosts, its dev server, terminals and agent turns stop (so nothing writes into removed
    // files), then caches and queued jobs go.
    forgetDeleted({ orgs, projects }, [
      preview,
      devServers,
      terminals,
      chatEngine,
      previewErrors,
      llm,
      jobs,
      git.backend,
      siteProcesses,
    ]);
    await jobs.start();
    webhooks.dispatcher.start();
    await notifications.mail.start();
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
    const oidcClients = new OidcClients(config.oidcProviders, egress);
    const orgSso = new OrgSsoService({
      database,
      clients: oidcClients,
      lookup: dnsChallengeLookup(config.dnsServers),
      reserved: {
        publicUrl: config.publicUrl,
        appDomain: config.appDomain,
        publishDomain: config.publishDomain,
      },
    });
    const oidc = new OidcService({
      clients: oidcClients,
      database,
      orgs,
      orgSso,
      secrets,
      publicUrl: config.publicUrl,
      signupOpen: config.signupOpen,
      log: logger,
    });
    // Reset mails: 5 an hour per address; 20 requests or link tries a quarter hour per client address.
    const passwordReset = new PasswordResetService({
      database,
      mailer,
      addressLimiter: new RateLimiter(database, 5, 3600),
      clientLimiter: new RateLimiter(database, 20, 900),
      options: { publicUrl: config.publicUrl, log: logger },
    });
    const accountDeletion = new AccountDeletionService({
      database,
      orgs,
      passwordLimiter: new RateLimiter(database, config.loginMaxAttempts, config.loginWindowSeconds),
    });
    const services: Services = {
      database,
      orgs,
      verification,
      passwordReset,
      secrets,
      oidc,
      orgSso,
      accountDeletion,
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
      admin: new AdminService({
        database,
        admins: instanceAdmins,
        signup: signupPolicies,
        passwordReset,
        accountDeletion,
      }),
      adminOrgs: new AdminOrgs({ database, admins: instanceAdmins, orgs }),
      instanceAdmins,
      members: new MemberService(database, orgEvents),
      invitations: new InvitationService(database, mailer, {
        publicUrl: config.publicUrl,
        ttlDays: config.invitationTtlDays,
        log: logger,
        events: orgEvents,
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
      budgets: budgets.service,
      budgetLedger: budgets.ledger,
      notifications: notifications.service,
      audit,
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
      deployments,
      deployTargets,
      sites,
      siteProcesses,
      shareLinks,
      versions,
      domains,
      archives,
      marketplace: new MarketplaceService({ database, archives, projects, admins: instanceAdmins }),
      webhooks: webhooks.service,
      remotes,
      gitHosts,
      agents,
      mcpServers,
    };
    services.auth.useSessionCheck((session) => oidc.recheck(session));
    services.auth.useSignupPolicy((email) => signupPolicies.assertAllowed(email));
    // A person from a domain an org proved and bound to the provider joins through it whatever the policy.
    oidc.useSignupPolicy(
      async (tx, email, provider) =>
        (await signupPolicies.allows(email, tx)) || orgSso.bindsDomain(provider, email, tx),
    );
    services.auth.useAdminCheck((userId) => instanceAdmins.isAdmin(userId));
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
        await deployments.close();
        await siteProcesses.close();
        history.close();
        git.backend.close();
        stopHousekeeping();
        await chatEngine.close();
        await jobs.close();
        await webhooks.dispatcher.stop();
        await notifications.mail.close();
        await app.close();
        fileWatches.close();
        await Promise.all([devServers.close(), terminals.close(), llm.close()]);
        await budgets.ledger.flush();
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
    const { driver, check } = await openSandboxDriver({
      allowUnsandboxed: config.allowUnsandboxed,
      egressAllow: config.egressAllow,
      onOrphansEnded: (groups) =>
        logger.warn({ groups }, "ended sandboxes that a Kiln process on this host left when it died"),
    });
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
