import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp, type Services } from "./app.ts";
import { ApiTokenService } from "./auth/api-tokens.ts";
import { CsrfTokens } from "./auth/csrf.ts";
import { RateLimiter } from "./auth/rate-limiter.ts";
import { AuthService } from "./auth/service.ts";
import { AccessTokens } from "./auth/tokens.ts";
import type { KilnConfig } from "./config.ts";
import { type Database, openDatabase } from "./db/client.ts";
import { lockDataDir } from "./db/data-dir-lock.ts";
import { migrateAll } from "./db/migrate.ts";
import { InvitationService } from "./invitations/service.ts";
import { LogMailer, type Mailer } from "./mail/mailer.ts";
import { SmtpMailer } from "./mail/smtp-mailer.ts";
import { MemberService } from "./members/service.ts";
import { OrgService } from "./orgs/service.ts";
import { ProjectService } from "./projects/service.ts";
import { ProjectStorage } from "./projects/storage.ts";
import { loadMasterKey } from "./secrets/master-key.ts";
import { deriveKey, SecretBox } from "./secrets/secret-box.ts";

export interface Kiln {
  app: FastifyInstance;
  services: Services;
  database: Database;
  mailer: Mailer;
  secrets: SecretBox;
  storage: ProjectStorage;
  timings: { dbOpenMs: number; migrateMs: number; appMs: number };
  close(): Promise<void>;
}

export interface CreateKilnOptions {
  /** An already-open database (tests share one); otherwise opened from the config. */
  database?: Database;
  logger?: FastifyBaseLogger;
  mailer?: Mailer;
}

const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../web/dist");
const PLACEHOLDER_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../web/public");

export async function createKiln(config: KilnConfig, options: CreateKilnOptions = {}): Promise<Kiln> {
  const logger = options.logger ?? (pino({ level: config.logLevel }) as FastifyBaseLogger);
  const t0 = performance.now();
  const embedded = !options.database && !config.databaseUrl;
  const unlock = embedded ? await lockDataDir(config.dataDir) : async () => {};
  let database: Database;
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
    await migrateAll(database);
    const t2 = performance.now();
    const masterKey = await loadMasterKey(config.dataDir, config.secretKey);
    const storage = new ProjectStorage(config.dataDir);
    const mailer =
      options.mailer ??
      (config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.smtpFrom) : new LogMailer(logger));
    const orgs = new OrgService(database, storage);
    const services: Services = {
      database,
      orgs,
      auth: new AuthService({
        database,
        orgs,
        access: new AccessTokens(deriveKey(masterKey, "jwt"), config.accessTokenTtlSeconds),
        csrf: new CsrfTokens(deriveKey(masterKey, "csrf")),
        loginLimiter: new RateLimiter(database, config.loginMaxAttempts, config.loginWindowSeconds),
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
      projects: new ProjectService(database, storage),
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
      secrets: new SecretBox(masterKey),
      storage,
      timings: { dbOpenMs: t1 - t0, migrateMs: t2 - t1, appMs: t3 - t2 },
      async close() {
        await app.close();
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
