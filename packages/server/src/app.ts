import path from "node:path";
import fastifyCookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import fastifyWebsocket from "@fastify/websocket";
import { TERMINAL_MAX_MESSAGE_BYTES } from "@kiln/protocol";
import Fastify, { type FastifyInstance } from "fastify";
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from "fastify-type-provider-zod";
import { type AdminOrgs, type AdminService, adminRoutes, type InstanceAdmins } from "./admin/index.ts";
import { agentRoutes } from "./agents/routes.ts";
import type { AgentService } from "./agents/service.ts";
import { archiveRoutes } from "./archive/routes.ts";
import type { ProjectArchives } from "./archive/service.ts";
import { type AuditLog, auditRoutes } from "./audit/index.ts";
import type { AccountService } from "./auth/account.ts";
import type { AccountDeletionService } from "./auth/account-deletion.ts";
import type { ApiTokenService } from "./auth/api-tokens.ts";
import { sessionCookieNames } from "./auth/cookies.ts";
import type { EmailVerificationService } from "./auth/email-verification.ts";
import { type AuthMode, authModeOf, installAuthHook } from "./auth/hook.ts";
import { FlowCookie } from "./auth/oidc/flow.ts";
import type { OrgSsoService } from "./auth/oidc/org-sso.ts";
import { orgSsoRoutes } from "./auth/oidc/org-sso-routes.ts";
import { oidcRoutes } from "./auth/oidc/routes.ts";
import type { OidcService } from "./auth/oidc/service.ts";
import type { PasswordResetService } from "./auth/password-reset.ts";
import { authRoutes } from "./auth/routes.ts";
import type { AuthService } from "./auth/service.ts";
import { automationRoutes } from "./board/automation/routes.ts";
import type { AutomationService } from "./board/automation/service.ts";
import type { TaskReviews } from "./board/tasks/review.ts";
import { taskRoutes } from "./board/tasks/routes.ts";
import type { TaskService } from "./board/tasks/service.ts";
import { workflowRoutes } from "./board/workflows/routes.ts";
import type { WorkflowService } from "./board/workflows/service.ts";
import { type BudgetLedger, type BudgetService, budgetRoutes } from "./budgets/index.ts";
import { chatRoutes } from "./chats/routes.ts";
import type { ChatService } from "./chats/service.ts";
import type { ProjectStarter } from "./chats/start-project.ts";
import type { KilnConfig } from "./config.ts";
import type { Database } from "./db/client.ts";
import type { SiteProcesses } from "./deployments/processes.ts";
import { deploymentRoutes } from "./deployments/routes.ts";
import type { RuntimeLogs } from "./deployments/runtime-log.ts";
import type { DeploymentService } from "./deployments/service.ts";
import type { PublishedSites } from "./deployments/sites.ts";
import { deployTargetRoutes } from "./deployments/targets/routes.ts";
import type { DeployTargetService } from "./deployments/targets/service.ts";
import { versionShareRoutes } from "./deployments/version-share-routes.ts";
import type { VersionShareService } from "./deployments/version-shares.ts";
import type { VersionSites } from "./deployments/version-sites.ts";
import { devServerRoutes } from "./devserver/routes.ts";
import type { DevServerService } from "./devserver/service.ts";
import type { DomainLookup } from "./domains/lookup.ts";
import { domainRoutes } from "./domains/routes.ts";
import type { CustomDomainSites } from "./domains/serve.ts";
import type { CustomDomainService } from "./domains/service.ts";
import { fileRoutes } from "./files/routes.ts";
import { type FileService, writeBodyLimit } from "./files/service.ts";
import type { FileWatches } from "./files/watches.ts";
import type { GitAccess } from "./git/access.ts";
import type { GitBackend } from "./git/backend.ts";
import { gitRoutes } from "./git/routes.ts";
import type { GitHostActions } from "./git-hosts/actions.ts";
import { gitHostRoutes } from "./git-hosts/routes.ts";
import type { GitHostService } from "./git-hosts/service.ts";
import { healthRoutes } from "./health/routes.ts";
import { historyRoutes } from "./history/routes.ts";
import type { ProjectHistory } from "./history/service.ts";
import { hostAwareServer } from "./host-server.ts";
import { frameworkErrors, installErrorHandler } from "./http/error-handler.ts";
import { eventStreams } from "./http/event-stream.ts";
import { installSecurityHeaders } from "./http/security-headers.ts";
import { invitationRoutes } from "./invitations/routes.ts";
import type { InvitationService } from "./invitations/service.ts";
import { jobRoutes } from "./jobs/routes.ts";
import type { JobService } from "./jobs/service.ts";
import { workerSocketRoute } from "./jobs/socket-route.ts";
import { llmProxyRoutes } from "./llm/proxy/routes.ts";
import { llmRoutes } from "./llm/routes.ts";
import type { LlmService } from "./llm/service.ts";
import { marketplaceRoutes } from "./marketplace/routes.ts";
import type { MarketplaceService } from "./marketplace/service.ts";
import { mcpRoutes } from "./mcp/route.ts";
import { mcpServerRoutes } from "./mcp-client/routes.ts";
import type { McpServerService } from "./mcp-client/service.ts";
import { memberRoutes } from "./members/routes.ts";
import type { MemberService } from "./members/service.ts";
import { type NotificationService, notificationRoutes } from "./notifications/index.ts";
import { orgRouter } from "./orgs/router.ts";
import { orgRoutes } from "./orgs/routes.ts";
import type { OrgService } from "./orgs/service.ts";
import type { PreviewErrors } from "./preview/errors.ts";
import { previewErrorRoutes } from "./preview/errors-routes.ts";
import type { PreviewGateway } from "./preview/gateway.ts";
import { shareLinkRoutes } from "./preview/share-link-routes.ts";
import type { ShareLinkService } from "./preview/share-links.ts";
import type { ProjectEnvService } from "./projects/env.ts";
import { projectRoutes } from "./projects/routes.ts";
import type { ProjectService } from "./projects/service.ts";
import type { GitImportDeps } from "./remotes/import.ts";
import { remoteRoutes } from "./remotes/routes.ts";
import type { GitRemotes } from "./remotes/service.ts";
import type { SecretBox } from "./secrets/secret-box.ts";
import { templateRoutes } from "./templates/routes.ts";
import type { TemplateService } from "./templates/service.ts";
import { terminalRoutes } from "./terminal/routes.ts";
import type { TerminalService } from "./terminal/service.ts";
import { VERSION } from "./version.ts";
import { type WebhookService, webhookRoutes } from "./webhooks/index.ts";

export interface Services {
  database: Database;
  auth: AuthService;
  account: AccountService;
  verification: EmailVerificationService;
  passwordReset: PasswordResetService;
  oidc: OidcService;
  orgSso: OrgSsoService;
  secrets: SecretBox;
  accountDeletion: AccountDeletionService;
  apiTokens: ApiTokenService;
  orgs: OrgService;
  members: MemberService;
  invitations: InvitationService;
  projects: ProjectService;
  projectEnv: ProjectEnvService;
  files: FileService;
  fileWatches: FileWatches;
  templates: TemplateService;
  devServer: DevServerService;
  preview: PreviewGateway;
  terminals: TerminalService;
  llm: LlmService;
  budgets: BudgetService;
  /** Reserves and settles model calls against the budgets (tests flush it). */
  budgetLedger: BudgetLedger;
  notifications: NotificationService;
  audit: AuditLog;
  admin: AdminService;
  adminOrgs: AdminOrgs;
  instanceAdmins: InstanceAdmins;
  history: ProjectHistory;
  previewErrors: PreviewErrors;
  agents: AgentService;
  mcpServers: McpServerService;
  chats: ChatService;
  projectStarter: ProjectStarter;
  jobs: JobService;
  reviews: TaskReviews;
  tasks: TaskService;
  workflows: WorkflowService;
  automation: AutomationService;
  git: { access: GitAccess; backend: GitBackend };
  deployments: DeploymentService;
  deployTargets: DeployTargetService;
  archives: ProjectArchives;
  marketplace: MarketplaceService;
  sites: PublishedSites;
  siteProcesses: SiteProcesses;
  shareLinks: ShareLinkService;
  webhooks: WebhookService;
  remotes: { remotes: GitRemotes; imports: GitImportDeps };
  versions: { shares: VersionShareService; sites: VersionSites; runtimeLogs: RuntimeLogs };
  domains: { service: CustomDomainService; lookup: DomainLookup; sites: CustomDomainSites };
  gitHosts: { hosts: GitHostService; actions: GitHostActions };
}

export interface AppOptions {
  config: KilnConfig;
  logger: FastifyInstance["log"];
  /** Directory with the built web app; a placeholder page is served when absent. */
  webDir?: string | undefined;
}

/** The composition root: wires services into routes. Holds no logic of its own. */
export async function buildApp(services: Services, options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const secureCookies = config.publicUrl.startsWith("https://");
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // Bodies with __proto__/constructor.prototype are refused, not silently stripped.
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    return503OnClosing: true,
    forceCloseConnections: "idle",
    frameworkErrors,
    serverFactory: hostAwareServer(services.preview, services.sites, options.logger, {
      domains: services.domains.sites,
      versions: services.versions.sites,
    }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  installSecurityHeaders(app);

  await app.register(fastifyCookie);
  // Upgrades for preview hosts never get here (host-server.ts); the rest are routed like requests, so
  // the auth hook and route checks run before a socket is accepted.
  await app.register(fastifyWebsocket, { options: { maxPayload: TERMINAL_MAX_MESSAGE_BYTES } });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Kiln API", version: VERSION, description: "Self-hosted AI app studio" },
      components: {
        securitySchemes: {
          bearer: {
            type: "http",
            scheme: "bearer",
            description: "Access JWT or personal API token (kiln_pat_…)",
          },
          cookie: { type: "apiKey", in: "cookie", name: sessionCookieNames(secureCookies).access },
          basic: {
            type: "http",
            scheme: "basic",
            description: "git over HTTP: any username, a Kiln token (kiln_pat_… or a job token) as password",
          },
          workerToken: {
            type: "http",
            scheme: "bearer",
            description:
              "A worker token (kiln_wrk_…, or the instance's KILN_WORKER_TOKEN), for agent workers",
          },
          apiKey: {
            type: "apiKey",
            in: "header",
            name: "x-api-key",
            description: "A Kiln token in Anthropic's header, for the model proxy (/v1/messages)",
          },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    transform: (input) => {
      const out = jsonSchemaTransform(input);
      // Without this every operation inherits the global `security`, and the document would claim that
      // sign-up and log-in need a token.
      const mode = authModeOf(out.url, input.route.config as { auth?: AuthMode } | undefined);
      // A route that names its own credentials (a worker's token) keeps them.
      if (mode === "required" || (out.schema as { security?: unknown }).security) return out;
      const security: Array<Record<string, string[]>> =
        mode === "none" ? [] : [{ bearer: [] }, { cookie: [] }, {}];
      return { ...out, schema: { ...out.schema, security } };
    },
    transformObject: jsonSchemaTransformObject,
  });
  installAuthHook(app, services.auth, services.apiTokens, { secureCookies });
  // Routes declared as contracts (protocol `routes`) register through this.
  const router = orgRouter(app, services.orgs);
  healthRoutes(router, {
    database: services.database,
    config: {
      name: "kiln",
      version: VERSION,
      authMethods: ["password", "api_token"],
      appDomain: config.appDomain,
      signupOpen: config.signupOpen,
      signInProviders: config.oidcProviders.map((p) => ({ id: p.id, name: p.name })),
    },
  });
  authRoutes(router, {
    auth: services.auth,
    account: services.account,
    apiTokens: services.apiTokens,
    verification: services.verification,
    passwordReset: services.passwordReset,
    accountDeletion: services.accountDeletion,
    secureCookies,
  });
  orgSsoRoutes(router, services.orgSso);
  oidcRoutes(router, {
    oidc: services.oidc,
    auth: services.auth,
    cookie: new FlowCookie(services.secrets, secureCookies),
    secureCookies,
  });
  orgRoutes(router, { orgs: services.orgs });
  memberRoutes(router, { members: services.members });
  invitationRoutes(router, { invitations: services.invitations });
  projectRoutes(router, { projects: services.projects, env: services.projectEnv });
  deploymentRoutes(router, services.deployments);
  deployTargetRoutes(router, services.deployTargets, services.deployments);
  shareLinkRoutes(router, services.shareLinks);
  webhookRoutes(router, services.webhooks);
  versionShareRoutes(router, services.versions.shares, services.versions.runtimeLogs);
  domainRoutes(router, { domains: services.domains.service, lookup: services.domains.lookup });
  archiveRoutes(router, services.archives);
  remoteRoutes(router, services.remotes);
  gitHostRoutes(router, services.gitHosts);
  agentRoutes(router, services.agents);
  mcpServerRoutes(router, services.mcpServers);
  marketplaceRoutes(router, services.marketplace);
  // One table of open streams for every live route, so the per-user cap counts them all.
  const streams = eventStreams(app, { maxPerUser: config.maxStreamsPerUser });
  fileRoutes(router, {
    streams,
    files: services.files,
    watches: services.fileWatches,
    bodyLimitBytes: config.bodyLimitBytes,
  });
  templateRoutes(router, { templates: services.templates });
  devServerRoutes(router, { devServer: services.devServer, streams });
  previewErrorRoutes(router, { projects: services.projects, previewErrors: services.previewErrors });
  chatRoutes(router, { chats: services.chats, starter: services.projectStarter, streams });
  taskRoutes(router, { tasks: services.tasks, reviews: services.reviews });
  workflowRoutes(router, { workflows: services.workflows });
  automationRoutes(router, { automation: services.automation });
  historyRoutes(router, { projects: services.projects, history: services.history });
  terminalRoutes(router, { terminals: services.terminals, publicUrl: config.publicUrl });
  llmRoutes(router, { llm: services.llm });
  budgetRoutes(router, services.budgets);
  jobRoutes(router, { projects: services.projects, jobs: services.jobs, streams });
  notificationRoutes(router, { notifications: services.notifications, streams });
  auditRoutes(router, services.audit);
  adminRoutes(router, services.admin, services.adminOrgs);
  workerSocketRoute(router, { jobs: services.jobs });
  mcpRoutes(router, {
    orgs: services.orgs,
    projects: services.projects,
    files: services.files,
    tasks: services.tasks,
    workflows: services.workflows,
    chats: services.chats,
    deployments: services.deployments,
    // A file written through MCP may be as large as one written through the file API.
    bodyLimitBytes: Math.max(config.bodyLimitBytes, writeBodyLimit(services.files.limits)),
  });
  gitRoutes(app, {
    auth: services.auth,
    apiTokens: services.apiTokens,
    access: services.git.access,
    backend: services.git.backend,
  });
  llmProxyRoutes(app, {
    orgs: services.orgs,
    projects: services.projects,
    llm: services.llm,
    bodyLimitBytes: config.bodyLimitBytes,
    jobTokens: { verify: (token) => services.jobs.verifyJobToken(token) },
  });

  app.get("/api/openapi.json", { config: { auth: "none" }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  if (options.webDir) {
    await app.register(fastifyStatic, {
      root: options.webDir,
      wildcard: false,
      // Built assets have content hashes in their names; index.html must always be asked for again.
      setHeaders: (reply, file) => {
        reply.header(
          "cache-control",
          file.includes(`${path.sep}assets${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
        );
      },
    });
    // The studio is a single-page app: a deep link (/my-org/my-project) a browser asks for as a page gets
    // index.html and the client router takes over. API paths and non-page requests keep the JSON 404.
    app.get("/*", { config: { auth: "none" }, schema: { hide: true } }, (request, reply) => {
      const pathname = request.url.split("?")[0]!;
      const isPage = String(request.headers.accept ?? "").includes("text/html");
      if (!isPage || /^\/(api|v1)(\/|$)/i.test(pathname)) return reply.callNotFound();
      return reply.header("cache-control", "no-cache").sendFile("index.html");
    });
  }
  return app;
}
