import { eq, sql } from "drizzle-orm";
import { type Database, query } from "../db/client.ts";
import { driverError } from "../db/driver-error.ts";
import { webhookDeliveries } from "../db/schema-shared.ts";
import { webhooks } from "../db/schema-tenant.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import { secretContext } from "./service.ts";
import { SIGNATURE_HEADER, signatureHeader } from "./signature.ts";

export interface DispatcherOptions {
  database: Database;
  secrets: SecretBox;
  /** The egress fetch: every attempt is held to the address policy at connect time. */
  fetch: typeof fetch;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** The first retry's wait; each next one waits 4× longer, at most 6 hours. */
  retryBaseMs?: number;
  /** Attempts before a delivery is given up (failed). */
  maxAttempts?: number;
  timeoutMs?: number;
  pollMs?: number;
}

const CLAIMED_AT_ONCE = 10;
const MAX_WAIT_MS = 6 * 3_600_000;

interface Claimed {
  id: string;
  org_id: string;
  webhook_id: string;
  event: string;
  payload: unknown;
  attempts: number;
  schema_name: string | null;
}

/**
 * Works off the delivery queue (ADR 0027). Any replica claims due rows with SKIP LOCKED and a lease, so a
 * replica that dies mid-delivery leaves them to another once the lease runs out: delivery is at least
 * once, and the payload's `id` lets a receiver drop a duplicate. A 2xx answer is success; anything else
 * (an error status, a redirect, a timeout, a refused address) is retried with backoff until the attempts
 * run out. The webhook's URL and secret are read at each attempt: an edit or a deletion counts at once.
 */
export class WebhookDispatcher {
  readonly #o: Required<Omit<DispatcherOptions, "log" | "fetch" | "database" | "secrets">> &
    DispatcherOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;

  constructor(options: DispatcherOptions) {
    this.#o = {
      retryBaseMs: 30_000,
      maxAttempts: 8,
      timeoutMs: 10_000,
      pollMs: 5_000,
      ...options,
    };
  }

  start(): void {
    this.#stopped = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Looks for due deliveries now (one pass at a time; a wake during a pass runs another after it). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.wake();
      } else {
        this.#timer = setTimeout(() => this.wake(), this.#o.pollMs);
        this.#timer.unref();
      }
    });
  }

  async #pass(): Promise<void> {
    try {
      for (;;) {
        const claimed = await this.#claim();
        await Promise.all(claimed.map((row) => this.#deliver(row)));
        if (claimed.length < CLAIMED_AT_ONCE || this.#stopped) return;
      }
    } catch (err) {
      this.#o.log.warn({ error: driverError(err) }, "webhook deliveries: the queue could not be read");
    }
  }

  async #claim(): Promise<Claimed[]> {
    const leaseSeconds = Math.ceil((this.#o.timeoutMs * 2) / 1000) + 30;
    return query<Claimed>(
      this.#o.database.db,
      sql`UPDATE webhook_deliveries d
          SET attempts = d.attempts + 1, lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
          FROM orgs o
          WHERE o.id = d.org_id AND d.id IN (
            SELECT id FROM webhook_deliveries
            WHERE state = 'pending' AND next_attempt_at <= now()
              AND (lease_expires_at IS NULL OR lease_expires_at < now())
            ORDER BY next_attempt_at
            LIMIT ${CLAIMED_AT_ONCE}
            FOR UPDATE SKIP LOCKED)
          RETURNING d.id, d.org_id, d.webhook_id, d.event, d.payload, d.attempts, o.schema_name`,
    );
  }

  async #deliver(row: Claimed): Promise<void> {
    let outcome: { status?: number; error?: string };
    try {
      const [hook] = row.schema_name
        ? await this.#o.database.tenant(row.schema_name, (tx) =>
            tx.select().from(webhooks).where(eq(webhooks.id, row.webhook_id)),
          )
        : [];
      if (!hook) return await this.#settle(row, { error: "the webhook was deleted" }, true);
      if (!hook.active) return await this.#settle(row, { error: "the webhook is paused" }, true);
      const secret = this.#o.secrets.decrypt(hook.secretSealed, secretContext(row.org_id, hook.id));
      outcome = await this.#post(hook.url, secret, row);
    } catch (err) {
      outcome = { error: err instanceof Error ? err.message : String(err) };
    }
    await this.#settle(row, outcome, false).catch((err) =>
      this.#o.log.warn(
        { error: driverError(err), deliveryId: row.id },
        "a webhook delivery's outcome was not saved",
      ),
    );
  }

  async #post(url: string, secret: string, row: Claimed): Promise<{ status?: number; error?: string }> {
    const body = JSON.stringify(row.payload);
    try {
      const res = await this.#o.fetch(url, {
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.timeout(this.#o.timeoutMs),
        headers: {
          "content-type": "application/json",
          "user-agent": "Kiln-Webhooks/1",
          "kiln-event": row.event,
          "kiln-delivery": row.id,
          [SIGNATURE_HEADER]: signatureHeader(secret, body),
        },
        body,
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return { status: res.status };
      return {
        status: res.status,
        error:
          res.status >= 300 && res.status < 400 ? "redirects are not followed" : `answered ${res.status}`,
      };
    } catch (err) {
      const error =
        err instanceof Error ? (err.name === "TimeoutError" ? "timed out" : err.message) : String(err);
      return { error };
    }
  }

  async #settle(row: Claimed, outcome: { status?: number; error?: string }, final: boolean): Promise<void> {
    const ok = !outcome.error;
    const givenUp = final || (!ok && row.attempts >= this.#o.maxAttempts);
    const wait = Math.min(this.#o.retryBaseMs * 4 ** (row.attempts - 1), MAX_WAIT_MS);
    await this.#o.database.db
      .update(webhookDeliveries)
      .set({
        state: ok ? "succeeded" : givenUp ? "failed" : "pending",
        lastStatus: outcome.status ?? null,
        lastError: outcome.error?.slice(0, 500) ?? null,
        leaseExpiresAt: null,
        nextAttemptAt: ok || givenUp ? null : new Date(Date.now() + wait),
        finishedAt: ok || givenUp ? new Date() : null,
      })
      .where(eq(webhookDeliveries.id, row.id));
    if (!ok && !givenUp) {
      // A short first wait (tests, or an operator's choice) is met by this replica's own timer.
      if (wait < this.#o.pollMs) setTimeout(() => this.wake(), wait).unref();
    }
  }
}
