import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type EgressAllowEntry, parseEgressAllow } from "@kiln/agent";
import { LLM_MODEL_REF_PATTERN } from "@kiln/protocol";
import { z } from "zod";
import { ValidationError } from "./errors/errors.ts";
import { sharedPreviewSite } from "./site.ts";
import { type OidcProviderConfig, oidcProvidersFrom } from "./sso-providers.ts";

const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL("../../../templates", import.meta.url));
/** Where `npm install` builds the template dependency caches (`kiln prepare-templates`, ADR 0007). */
const DEFAULT_INSTALLED_TEMPLATE_CACHE_DIR = fileURLToPath(
  new URL("../../../node_modules/.cache/kiln/templates", import.meta.url),
);

const Bool = z
  .enum(["1", "0", "true", "false", "yes", "no", ""])
  .transform((v) => v === "1" || v === "true" || v === "yes");

const OptionalText = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));
const OptionalUrl = z
  .string()
  .url()
  .optional()
  .or(z.literal("").transform(() => undefined));

/** A count or size limit; 0 turns it off. */
const Cap = z.coerce.number().int().min(0).max(1_000_000_000);

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default("0.0.0.0"),
  KILN_DATA_DIR: z.string().default(".kiln"),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .or(z.literal("").transform(() => undefined)),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  KILN_SECRET_KEY: z.string().optional(),
  KILN_PUBLIC_URL: OptionalUrl,
  KILN_APP_DOMAIN: z.string().default("localhost"),
  KILN_PUBLISH_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, "a domain name")
    .optional(),
  KILN_ALLOW_SAME_SITE_PREVIEWS: Bool.default(false),
  KILN_SIGNUP_OPEN: Bool.default(true),
  KILN_ADMIN_EMAILS: z.string().max(10_000).default(""),
  KILN_PGLITE_THREAD: Bool.default(true),
  KILN_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(900),
  KILN_REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  KILN_REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  KILN_LOGIN_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  KILN_LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  KILN_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  KILN_NOTIFY_EMAIL_DELAY_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  KILN_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(32),
  KILN_TRUST_PROXY: Bool.default(false),
  KILN_INVITATION_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  SMTP_URL: z.string().url().optional(),
  SMTP_FROM: z.string().default("Kiln <kiln@localhost>"),
  KILN_TEMPLATES_DIR: z.string().optional(),
  KILN_TEMPLATE_CACHE_DIR: z.string().optional(),
  KILN_INSTALLED_TEMPLATE_CACHE_DIR: z.string().optional(),
  KILN_ALLOW_UNSANDBOXED: Bool.default(false),
  KILN_HIBERNATE_AFTER_MINUTES: z.coerce.number().min(0).max(10_080).default(15),
  KILN_CHAT_EVENTS_DAYS: z.coerce.number().min(0).max(3650).default(14),
  KILN_AUDIT_DAYS: z.coerce.number().min(0).max(36_500).default(365),
  KILN_TERMINAL_IDLE_MINUTES: z.coerce.number().min(0).max(10_080).default(30),
  KILN_APPROVAL_TIMEOUT_SECONDS: z.coerce.number().min(1).max(86_400).default(600),
  KILN_EMBEDDED_WORKERS: z.coerce.number().int().min(0).max(32).default(1),
  KILN_AGENT_MAX_STEPS: z.coerce.number().int().min(1).max(500).default(40),
  KILN_GIT_MAX_PUSH_BYTES: z.coerce.number().int().min(1024).default(209_715_200),
  KILN_GIT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  KILN_GIT_WARM_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  // Git with hosts outside Kiln (remotes/, ADR 0025): a CA bundle trusted besides the system's (a
  // self-hosted GitLab's own CA), and the most one import or fetch may bring in.
  KILN_GIT_CA_FILE: OptionalText,
  KILN_GIT_TRANSFER_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(209_715_200),
  // Aggregate limits per org and per user (limits/); 0 = no limit.
  KILN_MAX_PROJECTS_PER_ORG: Cap.default(100),
  KILN_MAX_ORGS_PER_USER: Cap.default(10),
  KILN_MAX_SANDBOXES_PER_ORG: Cap.default(24),
  KILN_MAX_TERMINALS_PER_ORG: Cap.default(20),
  KILN_MAX_TERMINALS_PER_USER: Cap.default(10),
  KILN_MAX_CHAT_RUNS_PER_ORG: Cap.default(10),
  KILN_MAX_CHAT_RUNS_PER_USER: Cap.default(4),
  KILN_ORG_MEMORY_MB: Cap.default(24_576),
  KILN_ORG_CPUS: z.coerce.number().min(0).max(100_000).optional(),
  KILN_PROJECT_DISK_MB: Cap.default(2048),
  KILN_DISK_CHECK_SECONDS: z.coerce.number().min(0).max(86_400).default(30),
  // AI jobs (jobs/, ADR 0012).
  KILN_WORKER_TOKEN: OptionalText.pipe(z.string().min(24, "at least 24 characters").optional()),
  KILN_JOB_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  KILN_JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  KILN_JOB_RETRY_BASE_SECONDS: z.coerce.number().min(0).max(3600).default(10),
  KILN_JOB_TIMEOUT_MINUTES: z.coerce.number().min(1).max(10_080).default(60),
  KILN_JOB_CANCEL_GRACE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  KILN_JOB_SWEEP_SECONDS: z.coerce.number().min(0).max(3600).default(5),
  // Instance-wide model providers (llm/); the usual variable names, so an existing shell setup just works.
  OPENAI_API_KEY: OptionalText,
  OPENAI_BASE_URL: OptionalUrl,
  ANTHROPIC_API_KEY: OptionalText,
  ANTHROPIC_BASE_URL: OptionalUrl,
  OPENROUTER_API_KEY: OptionalText,
  OLLAMA_BASE_URL: OptionalUrl,
  KILN_MODEL: OptionalText.pipe(
    z.string().regex(LLM_MODEL_REF_PATTERN, "a model ref like openai/gpt-4.1-mini").optional(),
  ),
  KILN_LLM_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(120),
  KILN_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  KILN_LLM_RETRY_BASE_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  KILN_LLM_MAX_RETRY_WAIT_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  // External deploy targets' APIs (deployments/targets/, ADR 0024): the providers' public roots by default.
  KILN_VERCEL_API_URL: z.url().default("https://api.vercel.com"),
  KILN_NETLIFY_API_URL: z.url().default("https://api.netlify.com"),
  KILN_CLOUDFLARE_API_URL: z.url().default("https://api.cloudflare.com/client/v4"),
  KILN_DEPLOY_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
  // Destinations exempt from the egress address policy (@kiln/agent net/address-policy.ts) for every
  // server-side fetch, tenants' included: an intranet model server orgs may use, a local fake provider.
  KILN_EGRESS_ALLOW: z
    .string()
    .default("")
    .transform((text, ctx) => {
      try {
        return parseEgressAllow(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    }),
  // Extra certificate authorities (a PEM file) trusted for outbound https besides Node's bundled ones:
  // an operator's own CA for internal webhook receivers.
  KILN_EXTRA_CA_FILE: z.string().optional(),
  // Webhook deliveries: the first retry's wait (each next one 4× longer) and the attempts before giving up.
  KILN_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  KILN_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  // Where custom domains' TXT records are looked up (domains/dns-check.ts): `ip` or `ip:port`, comma-separated;
  // empty: the system's resolvers.
  KILN_DNS_SERVERS: z
    .string()
    .default("")
    .transform((text, ctx) => {
      try {
        return parseDnsServers(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    }),
  // Replaced by KILN_EGRESS_ALLOW; refused rather than ignored, so an upgrade does not silently cut off
  // the providers it let through.
  KILN_LLM_ALLOW_PRIVATE_URLS: z
    .enum(["", "0", "false", "no"], {
      error: "was removed: list the hosts org providers may use in KILN_EGRESS_ALLOW (e.g. 10.0.0.5:11434)",
    })
    .optional(),
});

export interface KilnConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Embedded PGlite in a thread of its own (ADR 0022); off: on the server's thread. */
  pgliteThread: boolean;
  logLevel: z.infer<typeof Env>["LOG_LEVEL"];
  secretKey: string | undefined;
  /** Origin users reach the studio at; used in links (invitations) and to decide cookie `Secure`. */
  publicUrl: string;
  appDomain: string;
  /** Published sites live at `<project>--<org>.<publishDomain>` (deployments/host.ts); `apps.<appDomain>` by default. */
  publishDomain: string;
  /**
   * Previews may share the studio's registrable domain (UNSAFE: a preview can then toss cookies at the
   * studio and counts as same-site); without it such a configuration refuses to start.
   */
  allowSameSitePreviews: boolean;
  signupOpen: boolean;
  /** Instance administrators by address (admin/); empty: the first verified account is the admin. */
  adminEmails: string[];
  /** Single sign-on providers (sso-providers.ts). */
  oidcProviders: OidcProviderConfig[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  refreshReuseGraceSeconds: number;
  loginMaxAttempts: number;
  loginWindowSeconds: number;
  bodyLimitBytes: number;
  /** External deploy targets (ADR 0024): each provider's API root and the pause between status polls. */
  deployTargets: {
    apiUrls: { vercel: string; netlify: string; "cloudflare-pages": string };
    pollMs: number;
  };
  /** Exemptions from the egress address policy (KILN_EGRESS_ALLOW); apply to every server-side fetch. */
  egressAllow: EgressAllowEntry[];
  /** A PEM file of extra CAs for outbound https (KILN_EXTRA_CA_FILE). */
  extraCaFile: string | undefined;
  webhooks: { retryBaseMs: number; maxAttempts: number };
  /** Resolvers for custom domains' TXT records (KILN_DNS_SERVERS); empty: the system's. */
  dnsServers: string[];
  /**
   * Live streams (server-sent events) one user may hold open at once on this server, over all their
   * sessions and tokens; one more is refused with 429 `too_many_streams`. Counted per replica.
   */
  maxStreamsPerUser: number;
  /** How long a notification's mail waits so that those close together leave in one (KILN_NOTIFY_EMAIL_DELAY_MS). */
  notifyEmailDelayMs: number;
  trustProxy: boolean;
  invitationTtlDays: number;
  smtpUrl: string | undefined;
  smtpFrom: string;
  /** Project templates, one folder each with a `kiln.json` (ADR 0007). */
  templatesDir: string;
  /** Shared, install-once template dependencies; must be on the data dir's filesystem for hard links. */
  templateCacheDir: string;
  /**
   * Template dependencies built at install time (`npm install` runs `kiln prepare-templates`), shared by
   * every data dir on the same filesystem and only read by `kiln start`; undefined (set to "") = none.
   */
  installedTemplateCacheDir: string | undefined;
  /** Run project code directly on the host when it cannot sandbox (UNSAFE; ADR 0006). */
  allowUnsandboxed: boolean;
  /** Dev servers with no preview traffic for this long are stopped; the next visit wakes them. 0 = never. */
  hibernateAfterMinutes: number;
  /** A finished chat turn's replay events are removed after this many days (its content stays). 0 = never. */
  chatEventsDays: number;
  /** Audit log records older than this many days are removed. 0 = kept for ever. */
  auditDays: number;
  /** Terminals with no attached socket and no output for this long are killed. 0 = never. */
  terminalIdleMinutes: number;
  agent: {
    /** A tool call waiting for the user's decision longer than this is rejected. */
    approvalTimeoutMs: number;
    /** Model calls per chat turn before it stops with `step_limit`. */
    maxSteps: number;
    /** Jobs `kiln start` runs itself (an embedded worker), so the task board works with no other process. */
    embeddedWorkers: number;
  };
  llm: LlmConfig;
  /** AI jobs and their workers (jobs/, ADR 0012). */
  jobs: {
    /** The instance's own worker token (every org's jobs), for the embedded worker; unset: none. */
    instanceWorkerToken: string | undefined;
    /** A worker that does not renew a job's lease for this long has lost it; the job goes back. */
    leaseMs: number;
    /** Attempts per job, the first included; only transient failures use more than one. */
    maxAttempts: number;
    /** Wait before the second attempt, doubled for each one after it. */
    retryBaseMs: number;
    /** An attempt running longer than this ends with `timeout`. */
    timeoutMs: number;
    /** A running job whose worker has not acknowledged a cancel after this long is cancelled anyway. */
    cancelGraceMs: number;
    /** How often expired leases, time limits and unanswered cancels are looked for; 0 = never (tests). */
    sweepMs: number;
  };
  /** Aggregate limits per org, user and project (limits/); 0 = no limit. */
  limits: LimitsConfig;
  /** Git over HTTP (git/, ADR 0013). */
  git: {
    /** Bytes one push may upload. */
    maxPushBytes: number;
    /** Wall-clock limit of one git request, upload included. */
    timeoutMs: number;
    /** A project's warm git sandbox stops after this long without a request; 0 = a sandbox per request. */
    warmIdleMs: number;
    /** PEM file of CAs trusted for transfers with git hosts, besides the system's (KILN_GIT_CA_FILE). */
    caFile: string | undefined;
    /** Bytes one import, fetch or push with a git host may move. */
    transferMaxBytes: number;
  };
}

/** Caps a tenant cannot exceed however it spreads its work; each refusal names its limit (limits/). */
export interface LimitsConfig {
  /** Projects in one org. */
  projectsPerOrg: number;
  /** Orgs one user has created (the personal org included). */
  orgsPerUser: number;
  /** Live sandboxes of one org: dev servers, terminals and running agent commands (per replica). */
  sandboxesPerOrg: number;
  /** Open terminals across an org's projects (per replica). */
  terminalsPerOrg: number;
  /** Open terminals one user has opened across all projects and orgs (per replica). */
  terminalsPerUser: number;
  /** Chat turns running at once in one org (all replicas). */
  chatRunsPerOrg: number;
  /** Chat turns one user has running at once (all replicas). */
  chatRunsPerUser: number;
  /** Sum of the memory limits of an org's live sandboxes, bytes (per replica). */
  orgMemoryBytes: number;
  /** Sum of the CPU quotas (cores) of an org's live sandboxes (per replica). */
  orgCpus: number;
  /** Disk one project may use, bytes: files its sandbox user owns (shared dependency links excluded). */
  projectDiskBytes: number;
  /** How often projects with live sandboxes are measured; one over its quota has them stopped. 0 = never. */
  diskCheckMs: number;
}

/** The instance's model providers and the gateway's limits (llm/, ADR 0009). */
export interface LlmConfig {
  openaiApiKey: string | undefined;
  openaiBaseUrl: string | undefined;
  anthropicApiKey: string | undefined;
  anthropicBaseUrl: string | undefined;
  openrouterApiKey: string | undefined;
  ollamaBaseUrl: string | undefined;
  /** `<provider>/<model>` used when neither the caller nor the org names one. */
  defaultModel: string | undefined;
  /** Model calls per minute per org; an org may set a lower cap, never a higher one. */
  rateLimitPerMinute: number;
  /** Retries after 429/5xx/connection failures, with exponential backoff from `retryBaseMs`. */
  maxRetries: number;
  retryBaseMs: number;
  /** A provider asking to wait longer than this (retry-after) fails at once with that hint instead. */
  maxRetryWaitSeconds: number;
}

/**
 * Where the server is reached when KILN_PUBLIC_URL is not set, and the address `kiln start` prints:
 * `localhost` when it listens on every address; otherwise the address it listens on (a loopback one
 * included, so the printed URL is the studio's own origin), for browsers and for the URLs handed to workers
 * (git clone, model proxy) alike.
 */
export function defaultPublicUrl(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (["", "0.0.0.0", "::"].includes(bare)) return `http://localhost:${port}`;
  return `http://${isIP(bare) === 6 ? `[${bare}]` : bare}:${port}`;
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<KilnConfig> = {},
): KilnConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    // Said on the terminal at start-up: name each variable, or the operator has to guess which one.
    const which = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ValidationError(`invalid configuration: ${which}`, parsed.error.issues);
  }
  const e = parsed.data;
  const port = overrides.port ?? e.PORT;
  const config: KilnConfig = {
    port,
    host: e.HOST,
    dataDir: path.resolve(e.KILN_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    pgliteThread: e.KILN_PGLITE_THREAD,
    logLevel: e.LOG_LEVEL,
    secretKey: e.KILN_SECRET_KEY,
    publicUrl: (e.KILN_PUBLIC_URL ?? defaultPublicUrl(e.HOST, port)).replace(/\/$/, ""),
    appDomain: e.KILN_APP_DOMAIN,
    publishDomain: e.KILN_PUBLISH_DOMAIN ?? `apps.${e.KILN_APP_DOMAIN}`,
    allowSameSitePreviews: e.KILN_ALLOW_SAME_SITE_PREVIEWS,
    signupOpen: e.KILN_SIGNUP_OPEN,
    adminEmails: e.KILN_ADMIN_EMAILS.split(",")
      .map((x) => x.trim().toLowerCase())
      .filter(Boolean),
    oidcProviders: oidcProvidersFrom(env),
    accessTokenTtlSeconds: e.KILN_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.KILN_REFRESH_TOKEN_TTL_DAYS,
    refreshReuseGraceSeconds: e.KILN_REFRESH_REUSE_GRACE_SECONDS,
    loginMaxAttempts: e.KILN_LOGIN_MAX_ATTEMPTS,
    loginWindowSeconds: e.KILN_LOGIN_WINDOW_SECONDS,
    bodyLimitBytes: e.KILN_BODY_LIMIT_BYTES,
    egressAllow: e.KILN_EGRESS_ALLOW,
    extraCaFile: e.KILN_EXTRA_CA_FILE,
    webhooks: { retryBaseMs: e.KILN_WEBHOOK_RETRY_BASE_MS, maxAttempts: e.KILN_WEBHOOK_MAX_ATTEMPTS },
    deployTargets: {
      apiUrls: {
        vercel: e.KILN_VERCEL_API_URL.replace(/\/+$/, ""),
        netlify: e.KILN_NETLIFY_API_URL.replace(/\/+$/, ""),
        "cloudflare-pages": e.KILN_CLOUDFLARE_API_URL.replace(/\/+$/, ""),
      },
      pollMs: e.KILN_DEPLOY_POLL_MS,
    },
    dnsServers: e.KILN_DNS_SERVERS,
    maxStreamsPerUser: e.KILN_MAX_STREAMS_PER_USER,
    notifyEmailDelayMs: e.KILN_NOTIFY_EMAIL_DELAY_MS,
    trustProxy: e.KILN_TRUST_PROXY,
    invitationTtlDays: e.KILN_INVITATION_TTL_DAYS,
    smtpUrl: e.SMTP_URL,
    smtpFrom: e.SMTP_FROM,
    templatesDir: path.resolve(e.KILN_TEMPLATES_DIR ?? DEFAULT_TEMPLATES_DIR),
    templateCacheDir: path.resolve(
      e.KILN_TEMPLATE_CACHE_DIR ?? path.join(path.resolve(e.KILN_DATA_DIR), "cache", "templates"),
    ),
    installedTemplateCacheDir:
      e.KILN_INSTALLED_TEMPLATE_CACHE_DIR === ""
        ? undefined
        : path.resolve(e.KILN_INSTALLED_TEMPLATE_CACHE_DIR ?? DEFAULT_INSTALLED_TEMPLATE_CACHE_DIR),
    allowUnsandboxed: e.KILN_ALLOW_UNSANDBOXED,
    hibernateAfterMinutes: e.KILN_HIBERNATE_AFTER_MINUTES,
    chatEventsDays: e.KILN_CHAT_EVENTS_DAYS,
    auditDays: e.KILN_AUDIT_DAYS,
    terminalIdleMinutes: e.KILN_TERMINAL_IDLE_MINUTES,
    agent: {
      approvalTimeoutMs: e.KILN_APPROVAL_TIMEOUT_SECONDS * 1000,
      maxSteps: e.KILN_AGENT_MAX_STEPS,
      embeddedWorkers: e.KILN_EMBEDDED_WORKERS,
    },
    llm: {
      openaiApiKey: e.OPENAI_API_KEY,
      openaiBaseUrl: e.OPENAI_BASE_URL,
      anthropicApiKey: e.ANTHROPIC_API_KEY,
      anthropicBaseUrl: e.ANTHROPIC_BASE_URL,
      openrouterApiKey: e.OPENROUTER_API_KEY,
      ollamaBaseUrl: e.OLLAMA_BASE_URL,
      defaultModel: e.KILN_MODEL,
      rateLimitPerMinute: e.KILN_LLM_RATE_LIMIT_PER_MINUTE,
      maxRetries: e.KILN_LLM_MAX_RETRIES,
      retryBaseMs: e.KILN_LLM_RETRY_BASE_MS,
      maxRetryWaitSeconds: e.KILN_LLM_MAX_RETRY_WAIT_SECONDS,
    },
    limits: {
      projectsPerOrg: e.KILN_MAX_PROJECTS_PER_ORG,
      orgsPerUser: e.KILN_MAX_ORGS_PER_USER,
      sandboxesPerOrg: e.KILN_MAX_SANDBOXES_PER_ORG,
      terminalsPerOrg: e.KILN_MAX_TERMINALS_PER_ORG,
      terminalsPerUser: e.KILN_MAX_TERMINALS_PER_USER,
      chatRunsPerOrg: e.KILN_MAX_CHAT_RUNS_PER_ORG,
      chatRunsPerUser: e.KILN_MAX_CHAT_RUNS_PER_USER,
      orgMemoryBytes: e.KILN_ORG_MEMORY_MB * 1024 * 1024,
      // Dev servers get every core of the host as their quota (a fast cold start): room for a few of them.
      orgCpus: e.KILN_ORG_CPUS ?? 6 * availableParallelism(),
      projectDiskBytes: e.KILN_PROJECT_DISK_MB * 1024 * 1024,
      diskCheckMs: e.KILN_DISK_CHECK_SECONDS * 1000,
    },
    git: {
      maxPushBytes: e.KILN_GIT_MAX_PUSH_BYTES,
      timeoutMs: e.KILN_GIT_TIMEOUT_SECONDS * 1000,
      warmIdleMs: e.KILN_GIT_WARM_SECONDS * 1000,
      caFile: e.KILN_GIT_CA_FILE ?? e.KILN_EXTRA_CA_FILE,
      transferMaxBytes: e.KILN_GIT_TRANSFER_MAX_BYTES,
    },
    jobs: {
      instanceWorkerToken: e.KILN_WORKER_TOKEN,
      leaseMs: e.KILN_JOB_LEASE_SECONDS * 1000,
      maxAttempts: e.KILN_JOB_MAX_ATTEMPTS,
      retryBaseMs: e.KILN_JOB_RETRY_BASE_SECONDS * 1000,
      timeoutMs: e.KILN_JOB_TIMEOUT_MINUTES * 60_000,
      cancelGraceMs: e.KILN_JOB_CANCEL_GRACE_SECONDS * 1000,
      sweepMs: e.KILN_JOB_SWEEP_SECONDS * 1000,
    },
  };
  const result = { ...config, ...overrides };
  refuseSameSitePreviews(result);
  refuseSharedPublishDomain(result);
  return result;
}

/** Published sites are tenant code like previews: never on the studio's site, never on previews' hosts. */
function refuseSharedPublishDomain(config: KilnConfig): void {
  if (config.publishDomain === config.appDomain)
    throw new ValidationError(
      `invalid configuration: KILN_PUBLISH_DOMAIN: published sites and previews would share the hosts ` +
        `*.${config.appDomain}; give published sites a domain of their own (e.g. apps.${config.appDomain})`,
    );
  if (config.allowSameSitePreviews) return;
  const site = sharedPreviewSite(config.publicUrl, config.publishDomain);
  if (site)
    throw new ValidationError(
      `invalid configuration: KILN_PUBLISH_DOMAIN: published sites at *.${config.publishDomain} share the ` +
        `site ${site} with the studio at ${config.publicUrl}; serve them from a domain of their own`,
    );
}

/** Said at start-up rather than found out later: the studio would be open to cookie tossing by previews. */
function refuseSameSitePreviews(config: KilnConfig): void {
  if (config.allowSameSitePreviews) return;
  const site = sharedPreviewSite(config.publicUrl, config.appDomain);
  if (!site) return;
  throw new ValidationError(
    `invalid configuration: KILN_APP_DOMAIN: previews at *.${config.appDomain} share the site ${site} with ` +
      `the studio at ${config.publicUrl} (KILN_PUBLIC_URL), so any project's preview could set cookies the ` +
      `studio reads. Serve previews from a domain of their own (not under ${site}), or set ` +
      "KILN_ALLOW_SAME_SITE_PREVIEWS=1 to accept that risk.",
    { appDomain: config.appDomain, publicUrl: config.publicUrl, site },
  );
}

/** `KILN_DNS_SERVERS`: comma-separated `ip`, `ip:port` or `[ipv6]:port` (domains/dns-check.ts uses them). */
function parseDnsServers(text: string): string[] {
  const servers = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  // Node's resolver checks each one with the parser it will use, and names the one it refuses.
  if (servers.length > 0) new Resolver().setServers(servers);
  return servers;
}
