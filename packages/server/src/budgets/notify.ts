import type { BudgetPeriod, BudgetScope, BudgetUnit } from "@kiln/protocol";
import { and, eq, inArray } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../db/client.ts";
import { memberships, users } from "../db/schema-shared.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { OrgRow } from "../orgs/service.ts";
import { formatAmount } from "./errors.ts";

/** A budget whose spend crossed its soft mark in a period; told once per budget and period. */
export interface SoftCapNotice {
  org: OrgRow;
  budget: {
    id: string;
    scope: BudgetScope;
    scopeId: string | null;
    period: BudgetPeriod;
    unit: BudgetUnit;
    limit: number;
    softFraction: number;
  };
  periodKey: string;
  spent: number;
}

/** Where soft-cap notices go. Email today; an in-app inbox or webhooks join as more channels. */
export interface BudgetNotifier {
  softCapCrossed(notice: SoftCapNotice): Promise<void>;
}

/** Tells every channel; one failing does not keep the others from hearing it. */
export class BudgetNotifications implements BudgetNotifier {
  readonly #channels: BudgetNotifier[];
  readonly #log: FastifyBaseLogger;

  constructor(channels: BudgetNotifier[], log: FastifyBaseLogger) {
    this.#channels = channels;
    this.#log = log;
  }

  async softCapCrossed(notice: SoftCapNotice): Promise<void> {
    const results = await Promise.allSettled(this.#channels.map((c) => c.softCapCrossed(notice)));
    for (const r of results) {
      if (r.status === "rejected") this.#log.warn({ err: r.reason }, "a budget notice was not delivered");
    }
  }
}

/** Mails the org's owners and admins, who can raise the budget. */
export class EmailBudgetNotifier implements BudgetNotifier {
  readonly #database: Database;
  readonly #mailer: Mailer;
  readonly #publicUrl: string;

  constructor(database: Database, mailer: Mailer, publicUrl: string) {
    this.#database = database;
    this.#mailer = mailer;
    this.#publicUrl = publicUrl.replace(/\/+$/, "");
  }

  async softCapCrossed({ org, budget, periodKey, spent }: SoftCapNotice): Promise<void> {
    const admins = await this.#database.db
      .select({ email: users.email })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.orgId, org.id), inArray(memberships.role, ["owner", "admin"])));
    const what = budget.scope === "org" ? "the org" : `${budget.scope} ${budget.scopeId}`;
    const percent = Math.round((spent / budget.limit) * 100);
    const subject = `Kiln: ${org.name} has used ${percent}% of a model budget`;
    const text = [
      `The ${budget.period} model budget for ${what} in ${org.name} (${periodKey}) is at ` +
        `${formatAmount(budget.unit, spent)} of ${formatAmount(budget.unit, budget.limit)} (${percent}%).`,
      "",
      "At the limit, model calls it covers (chats, jobs, the /v1 proxy) are refused until the period ends or",
      "an admin raises the budget:",
      `${this.#publicUrl}/${org.slug}/usage`,
    ].join("\n");
    for (const { email } of admins) await this.#mailer.send({ to: email, subject, text });
  }
}
