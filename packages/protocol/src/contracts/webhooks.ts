import { z } from "zod";
import {
  CreatedWebhook,
  CreateWebhookBody,
  UpdateWebhookBody,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryId,
  WebhookId,
} from "../webhooks.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["webhooks"];
const BASE = "/api/orgs/:org/webhooks";
const One = OrgParams.extend({ webhook: WebhookId });

/** An org's outbound webhooks and their deliveries: an admin's business (payloads name projects and people). */
export const webhooks = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The org's webhooks",
    tags,
    permission: "webhooks.manage",
    params: OrgParams,
    response: z.array(Webhook),
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Subscribe a URL to event families; the signing secret is shown only now",
    tags,
    permission: "webhooks.manage",
    params: OrgParams,
    body: CreateWebhookBody,
    status: 201,
    response: CreatedWebhook,
    errors: ["egress_refused", "webhook_url_invalid", "project_not_found", "too_many_webhooks"],
  }),
  update: defineRoute({
    method: "PATCH",
    path: `${BASE}/:webhook`,
    summary: "Change a webhook's URL or families, or pause it",
    tags,
    permission: "webhooks.manage",
    params: One,
    body: UpdateWebhookBody,
    response: Webhook,
    errors: ["webhook_not_found", "egress_refused", "webhook_url_invalid"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: `${BASE}/:webhook`,
    summary: "Delete a webhook and stop its pending deliveries",
    tags,
    permission: "webhooks.manage",
    params: One,
    response: Webhook,
    errors: ["webhook_not_found"],
  }),
  deliveries: defineRoute({
    method: "GET",
    path: `${BASE}/:webhook/deliveries`,
    summary: "A webhook's latest deliveries (50), newest first, with the receiver's answers",
    tags,
    permission: "webhooks.manage",
    params: One,
    response: z.array(WebhookDelivery),
    errors: ["webhook_not_found"],
  }),
  redeliver: defineRoute({
    method: "POST",
    path: `${BASE}/:webhook/deliveries/:delivery/redeliver`,
    summary: "Send a delivery's event again, as a new delivery",
    tags,
    permission: "webhooks.manage",
    params: One.extend({ delivery: WebhookDeliveryId }),
    status: 202,
    response: WebhookDelivery,
    errors: ["webhook_not_found", "webhook_delivery_not_found"],
  }),
};
