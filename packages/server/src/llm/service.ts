import type { AddressPolicy } from "@kiln/agent";
import type { FastifyBaseLogger } from "fastify";
import type { LlmConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import type { BudgetGuard } from "./budget-guard.ts";
import { CallLog } from "./call-log.ts";
import { LlmGateway } from "./gateway.ts";
import { ModelLists } from "./model-lists.ts";
import { PriceService } from "./prices.ts";
import { ProviderService } from "./providers.ts";
import { LlmRateLimiter } from "./rate-limit.ts";
import { SettingsService } from "./settings.ts";

/** The LLM domain, assembled: what `Services.llm` holds. Chats and jobs use `gateway`. */
export class LlmService {
  readonly gateway: LlmGateway;
  readonly providers: ProviderService;
  readonly prices: PriceService;
  readonly settings: SettingsService;
  readonly calls: CallLog;
  readonly limiter: LlmRateLimiter;
  readonly #modelLists = new ModelLists();

  constructor(deps: {
    database: Database;
    secrets: SecretBox;
    config: LlmConfig;
    egress: AddressPolicy;
    log: FastifyBaseLogger;
    /** Kiln's data dir: call rows wait in `outbox/` there while the database is away. */
    dataDir: string;
    /** Spend budgets (budgets/, ADR 0029), enforced by the gateway's middleware on every call. */
    budgets?: BudgetGuard;
  }) {
    const { database, config } = deps;
    this.providers = new ProviderService(database, deps.secrets, { egress: deps.egress });
    this.prices = new PriceService(database);
    this.calls = new CallLog(database, this.prices, deps.log, { dataDir: deps.dataDir });
    this.limiter = new LlmRateLimiter(database);
    this.settings = new SettingsService(database, {
      defaultModel: () => this.gateway.instanceDefaultModel,
      rateLimitPerMinute: config.rateLimitPerMinute,
    });
    this.gateway = new LlmGateway({
      config,
      database,
      egress: deps.egress,
      providers: this.providers,
      settings: this.settings,
      calls: this.calls,
      limiter: this.limiter,
      modelLists: this.#modelLists,
      log: deps.log,
      budgets: deps.budgets,
    });
  }

  forgetOrg(orgId: string): void {
    this.#modelLists.forget(`org:${orgId}:`);
  }

  /** Writes call rows still queued for a few seconds; the rest wait in the outbox file for the next start. */
  async close(): Promise<void> {
    await this.calls.close();
  }
}
