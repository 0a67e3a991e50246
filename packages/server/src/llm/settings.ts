import type { LlmSettings, UpdateLlmSettingsBody } from "@kiln/protocol";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { llmSettings } from "../db/schema-tenant.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../orgs/service.ts";
import { parseModelRef } from "./model-ref.ts";

export interface OrgLlmSettings {
  defaultModel: string | null;
  rateLimitPerMinute: number | null;
}

/** An org's default model and its own (lower) rate limit; one row per tenant schema, absent until set. */
export class SettingsService {
  readonly #database: Database;
  readonly #instance: { defaultModel: () => string | undefined; rateLimitPerMinute: number };

  constructor(
    database: Database,
    instance: { defaultModel: () => string | undefined; rateLimitPerMinute: number },
  ) {
    this.#database = database;
    this.#instance = instance;
  }

  async get(access: OrgAccess): Promise<LlmSettings> {
    requirePermission(access.role, "llm.read");
    return this.#view(await this.forOrg(access.org));
  }

  async update(access: OrgAccess, input: UpdateLlmSettingsBody): Promise<LlmSettings> {
    requirePermission(access.role, "llm.manage");
    // Checked here rather than in the schema, so that bodies sampled from the OpenAPI document reach the
    // permission check above; an unknown provider is fine (it may be added next).
    if (input.defaultModel) parseModelRef(input.defaultModel);
    const set = {
      ...(input.defaultModel === undefined ? {} : { defaultModel: input.defaultModel }),
      ...(input.rateLimitPerMinute === undefined ? {} : { rateLimitPerMinute: input.rateLimitPerMinute }),
      updatedAt: new Date(),
    };
    const [row] = await this.#database.tenant(access.org.schemaName, async (tx) => {
      const [before] = await tx.select().from(llmSettings).limit(1);
      const written = await tx
        .insert(llmSettings)
        .values({ id: 1, ...set })
        .onConflictDoUpdate({ target: llmSettings.id, set })
        .returning();
      const after = written[0]!;
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const key of ["defaultModel", "rateLimitPerMinute"] as const) {
        const from = before?.[key] ?? null;
        if (input[key] !== undefined && from !== after[key]) changes[key] = { from, to: after[key] };
      }
      if (Object.keys(changes).length > 0) {
        await recordAudit(tx, {
          orgId: access.org.id,
          action: "llm.settings_updated",
          actor: userActor(access),
          data: { changed: Object.keys(changes), ...changes },
        });
      }
      return written;
    });
    return this.#view({ defaultModel: row!.defaultModel, rateLimitPerMinute: row!.rateLimitPerMinute });
  }

  /** `tx`: a transaction in the org's schema already open (the gateway reads more in it). */
  async forOrg(org: OrgRow, tx?: Executor): Promise<OrgLlmSettings> {
    const read = (ex: Executor) => ex.select().from(llmSettings).limit(1);
    const [row] = tx ? await read(tx) : await this.#database.tenant(org.schemaName, read);
    return { defaultModel: row?.defaultModel ?? null, rateLimitPerMinute: row?.rateLimitPerMinute ?? null };
  }

  /** The org's cap, never above the instance's. */
  effectiveRateLimit(settings: OrgLlmSettings): number {
    return Math.min(
      settings.rateLimitPerMinute ?? Number.POSITIVE_INFINITY,
      this.#instance.rateLimitPerMinute,
    );
  }

  #view(settings: OrgLlmSettings): LlmSettings {
    return {
      ...settings,
      effectiveDefaultModel: settings.defaultModel ?? this.#instance.defaultModel() ?? null,
      effectiveRateLimitPerMinute: this.effectiveRateLimit(settings),
    };
  }
}
