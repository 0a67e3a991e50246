import { randomBytes, randomUUID } from "node:crypto";
import type { AddressPolicy } from "@kiln/agent";
import type {
  AuditAction,
  CreatedWebhook,
  CreateWebhookBody,
  UpdateWebhookBody,
  Webhook,
  WebhookDelivery,
  WebhookEventName,
  WebhookFamily,
} from "@kiln/protocol";
import { and, arrayContains, desc, eq, isNull, or, sql } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { webhookDeliveries } from "../db/schema-shared.ts";
import { webhooks } from "../db/schema-tenant.ts";
import { ConflictError, KilnError, NotFoundError } from "../errors/errors.ts";
import { assertEgressAllowed } from "../llm/egress.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { SecretBox } from "../secrets/secret-box.ts";

type Row = typeof webhooks.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export const MAX_WEBHOOKS = 20;
const DELIVERIES_LISTED = 50;

/** What every event's body carries besides its own `data`. */
export interface WebhookOrg {
  id: string;
  slug: string;
  schemaName: string;
}

export const secretContext = (orgId: string, webhookId: string) => `org:${orgId}:webhook:${webhookId}`;

export function toWebhook(row: Row): Webhook {
  return {
    id: row.id,
    url: row.url,
    families: row.families as WebhookFamily[],
    projectId: row.projectId,
    active: row.active,
    secretHint: row.secretHint,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhookId,
    event: row.event as WebhookEventName,
    state: row.state as WebhookDelivery["state"],
    attempts: row.attempts,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    nextAttemptAt: row.state === "pending" ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    payload: row.payload,
  };
}

/**
 * An org's webhooks (ADR 0027): admins subscribe URLs to event families; `emit` queues one delivery per
 * matching webhook in the shared delivery table, which the dispatcher works off (dispatcher.ts).
 */
export class WebhookService {
  readonly #database: Database;
  readonly #secrets: SecretBox;
  readonly #egress: AddressPolicy;
  readonly #projects: ProjectService;
  /** Told when deliveries were queued (the dispatcher's wake-up). */
  onQueued: () => void = () => {};

  constructor(deps: {
    database: Database;
    secrets: SecretBox;
    egress: AddressPolicy;
    projects: ProjectService;
  }) {
    this.#database = deps.database;
    this.#secrets = deps.secrets;
    this.#egress = deps.egress;
    this.#projects = deps.projects;
  }

  async list(access: OrgAccess): Promise<Webhook[]> {
    const rows = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(webhooks).orderBy(desc(webhooks.createdAt)),
    );
    return rows.map(toWebhook);
  }

  async create(access: OrgAccess, body: CreateWebhookBody): Promise<CreatedWebhook> {
    const url = await this.#checkUrl(body.url);
    const projectId = body.project ? (await this.#projects.get(access, body.project)).id : null;
    const id = randomUUID();
    const secret = `whsec_${randomBytes(24).toString("base64url")}`;
    const row = await this.#database.tenant(access.org.schemaName, async (tx) => {
      const [{ count } = { count: 0 }] = await tx
        .select({ count: sql<number>`count(*)::int` })
        .from(webhooks);
      if (count >= MAX_WEBHOOKS) {
        throw new ConflictError("too_many_webhooks", `an org can have at most ${MAX_WEBHOOKS} webhooks`);
      }
      const [created] = await tx
        .insert(webhooks)
        .values({
          id,
          url,
          families: [...new Set(body.families)],
          projectId,
          secretSealed: this.#secrets.encrypt(secret, secretContext(access.org.id, id)),
          secretHint: secret.slice(-4),
          createdBy: access.userId,
        })
        .returning();
      await auditWebhook(tx, access, "webhook.created", created!);
      return created!;
    });
    return { webhook: toWebhook(row), secret };
  }

  async update(access: OrgAccess, webhookId: string, body: UpdateWebhookBody): Promise<Webhook> {
    const url = body.url === undefined ? undefined : await this.#checkUrl(body.url);
    const row = await this.#database.tenant(access.org.schemaName, async (tx) => {
      const [before] = await tx.select().from(webhooks).where(eq(webhooks.id, webhookId)).for("update");
      if (!before) return undefined;
      const [updated] = await tx
        .update(webhooks)
        .set({
          ...(url ? { url } : {}),
          ...(body.families ? { families: [...new Set(body.families)] } : {}),
          ...(body.active === undefined ? {} : { active: body.active }),
          updatedAt: new Date(),
        })
        .where(eq(webhooks.id, webhookId))
        .returning();
      const changed = [
        ...(before.url === updated!.url ? [] : ["url"]),
        ...(JSON.stringify(before.families) === JSON.stringify(updated!.families) ? [] : ["families"]),
        ...(before.active === updated!.active ? [] : ["paused"]),
      ];
      await auditWebhook(tx, access, "webhook.updated", updated!, { changed });
      return updated;
    });
    if (!row) throw notFound();
    return toWebhook(row);
  }

  async remove(access: OrgAccess, webhookId: string): Promise<Webhook> {
    const [row] = await this.#database.tenant(access.org.schemaName, async (tx) => {
      const deleted = await tx.delete(webhooks).where(eq(webhooks.id, webhookId)).returning();
      if (deleted[0]) await auditWebhook(tx, access, "webhook.deleted", deleted[0]);
      return deleted;
    });
    if (!row) throw notFound();
    await this.#database.db
      .update(webhookDeliveries)
      .set({ state: "failed", lastError: "the webhook was deleted", finishedAt: new Date() })
      .where(
        and(
          eq(webhookDeliveries.orgId, access.org.id),
          eq(webhookDeliveries.webhookId, webhookId),
          eq(webhookDeliveries.state, "pending"),
        ),
      );
    return toWebhook(row);
  }

  async deliveries(access: OrgAccess, webhookId: string): Promise<WebhookDelivery[]> {
    await this.#row(access, webhookId);
    const rows = await this.#database.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.orgId, access.org.id), eq(webhookDeliveries.webhookId, webhookId)))
      .orderBy(desc(webhookDeliveries.createdAt))
      .limit(DELIVERIES_LISTED);
    return rows.map(toDelivery);
  }

  async redeliver(access: OrgAccess, webhookId: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.#row(access, webhookId);
    const [old] = await this.#database.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.id, deliveryId),
          eq(webhookDeliveries.orgId, access.org.id),
          eq(webhookDeliveries.webhookId, webhookId),
        ),
      );
    if (!old) throw new NotFoundError("webhook_delivery_not_found", "no such delivery of this webhook");
    const [row] = await this.#database.db
      .insert(webhookDeliveries)
      .values({
        id: randomUUID(),
        orgId: old.orgId,
        webhookId: old.webhookId,
        event: old.event,
        payload: old.payload,
        nextAttemptAt: new Date(),
      })
      .returning();
    this.onQueued();
    return toDelivery(row!);
  }

  /**
   * Queues `event` for every active webhook of the org subscribed to its family (and, for one narrowed
   * to a project, when the event is that project's). One event id for all of them: a receiver
   * subscribed twice can tell a duplicate.
   */
  async emit(
    org: WebhookOrg,
    event: WebhookEventName,
    projectId: string | null,
    data: object,
  ): Promise<void> {
    const family = event.split(".")[0] as WebhookFamily;
    const targets = await this.#database.tenant(org.schemaName, (tx) =>
      tx
        .select({ id: webhooks.id })
        .from(webhooks)
        .where(
          and(
            eq(webhooks.active, true),
            arrayContains(webhooks.families, [family]),
            projectId
              ? or(isNull(webhooks.projectId), eq(webhooks.projectId, projectId))
              : isNull(webhooks.projectId),
          ),
        ),
    );
    if (targets.length === 0) return;
    const payload = {
      id: randomUUID(),
      event,
      createdAt: new Date().toISOString(),
      org: { id: org.id, slug: org.slug },
      projectId,
      data,
    };
    const now = new Date();
    await this.#database.db.insert(webhookDeliveries).values(
      targets.map((t) => ({
        id: randomUUID(),
        orgId: org.id,
        webhookId: t.id,
        event,
        payload,
        nextAttemptAt: now,
      })),
    );
    this.onQueued();
  }

  async #row(access: OrgAccess, webhookId: string): Promise<Row> {
    const [row] = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(webhooks).where(eq(webhooks.id, webhookId)),
    );
    if (!row) throw notFound();
    return row;
  }

  /** https, or plain http to an address the operator exempted; no credentials; the address policy's yes. */
  async #checkUrl(raw: string): Promise<string> {
    const url = new URL(raw);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && this.#egress.exempts(url))) {
      throw new KilnError("webhook_url_invalid", "a webhook URL must be https://");
    }
    if (url.username || url.password) {
      throw new KilnError(
        "webhook_url_invalid",
        "a webhook URL cannot carry a user or password; verify the signature instead",
      );
    }
    url.hash = "";
    await assertEgressAllowed(this.#egress, url.href);
    return url.href;
  }
}

/** What a record says of a webhook: where it posts and what; never its signing secret. */
async function auditWebhook(
  tx: Executor,
  access: OrgAccess,
  action: AuditAction,
  row: Row,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await recordAudit(tx, {
    orgId: access.org.id,
    action,
    actor: userActor(access),
    projectId: row.projectId,
    target: { type: "webhook", id: row.id, label: row.url },
    data: { url: row.url, families: row.families, paused: !row.active, ...extra },
  });
}

const notFound = () => new NotFoundError("webhook_not_found", "no such webhook in this org");
