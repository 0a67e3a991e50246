import type { Database } from "../db/client.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { OrgService } from "../orgs/service.ts";
import { NotificationMailer } from "./mail.ts";
import { NotificationPreferenceStore } from "./preferences.ts";
import { NotificationService } from "./service.ts";
import { notificationTriggers } from "./triggers.ts";

export { resolveMentions } from "./mentions.ts";
export { notificationRoutes } from "./routes.ts";
export { NotificationService } from "./service.ts";

/** The inbox, its batched mail and what sets them off (ADR 0032). */
export function createNotifications(deps: {
  database: Database;
  mailer: Mailer;
  orgs: OrgService;
  publicUrl: string;
  emailDelayMs: number;
  log: { warn(obj: object, msg: string): void };
}) {
  const service = new NotificationService({
    database: deps.database,
    preferences: new NotificationPreferenceStore(deps.database),
    emailDelayMs: deps.emailDelayMs,
  });
  const mail = new NotificationMailer(deps);
  service.onEmailQueued = (dueAt) => mail.schedule(dueAt);
  const triggers = notificationTriggers({ ...deps, notifications: service });
  return { service, mail, triggers };
}
