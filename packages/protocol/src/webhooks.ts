import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

/**
 * Outbound webhooks: an org subscribes an https URL to families of events; Kiln POSTs each event as JSON,
 * signed (`Kiln-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`), and
 * retries a failed delivery with backoff. docs/webhooks.md says how a receiver verifies.
 */
export const WEBHOOK_FAMILIES = ["job", "task", "review", "deployment", "member"] as const;
export const WebhookFamily = z.enum(WEBHOOK_FAMILIES);
export type WebhookFamily = z.infer<typeof WebhookFamily>;

/** The events, each named `<family>.<what happened>`. */
export const WEBHOOK_EVENTS = [
  "job.finished",
  "task.created",
  "task.moved",
  "review.merged",
  "deployment.finished",
  "member.joined",
  "member.removed",
] as const;
export const WebhookEventName = z.enum(WEBHOOK_EVENTS);
export type WebhookEventName = z.infer<typeof WebhookEventName>;

export const WebhookId = z.uuid().describe("Webhook id");
export const WebhookDeliveryId = z.uuid().describe("Webhook delivery id");

export const Webhook = z
  .object({
    id: WebhookId,
    url: z.string(),
    families: z.array(WebhookFamily),
    projectId: Id.nullable().describe("Only this project's events; null: the whole org's"),
    active: z.boolean(),
    secretHint: z.string().describe("The secret's last characters"),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: "Webhook" });
export type Webhook = z.infer<typeof Webhook>;

const WebhookUrl = z
  .url({ protocol: /^https?$/, error: "an http(s) URL" })
  .max(2000)
  .describe("https://… (plain http only to an address the operator exempted with KILN_EGRESS_ALLOW)");

export const CreateWebhookBody = z
  .strictObject({
    url: WebhookUrl,
    families: z.array(WebhookFamily).min(1).max(WEBHOOK_FAMILIES.length),
    project: z.string().min(1).max(100).optional().describe("A project's slug or id: only its events"),
  })
  .meta({ id: "CreateWebhookBody" });
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const UpdateWebhookBody = z
  .strictObject({
    url: WebhookUrl.optional(),
    families: z.array(WebhookFamily).min(1).max(WEBHOOK_FAMILIES.length).optional(),
    active: z.boolean().optional(),
  })
  .meta({ id: "UpdateWebhookBody" });
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBody>;

/** The signing secret is shown once, when the webhook is made. */
export const CreatedWebhook = z
  .object({ webhook: Webhook, secret: z.string() })
  .meta({ id: "CreatedWebhook" });
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;

export const WebhookDeliveryState = z.enum(["pending", "succeeded", "failed"]);

export const WebhookDelivery = z
  .object({
    id: WebhookDeliveryId,
    webhookId: WebhookId,
    event: WebhookEventName,
    state: WebhookDeliveryState,
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable().describe("The receiver's last HTTP status"),
    lastError: z.string().nullable(),
    nextAttemptAt: Timestamp.nullable(),
    createdAt: Timestamp,
    finishedAt: Timestamp.nullable(),
    payload: z.unknown().describe("The JSON body sent"),
  })
  .meta({ id: "WebhookDelivery" });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;
