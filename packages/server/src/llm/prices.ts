import { randomUUID } from "node:crypto";
import type { LlmPrice, UpsertLlmPriceBody } from "@kiln/protocol";
import { eq, inArray } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { llmPrices } from "../db/schema-tenant.ts";
import { NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import { KNOWN_MODELS, knownModel } from "./catalog.ts";

export interface Price {
  input: number;
  output: number;
  cachedInput: number;
}

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}

/** USD for one call; `inputTokens` includes the cached ones, which are billed at the cached rate. */
export function costOf(price: Price, tokens: TokenCounts): number {
  const cached = Math.min(tokens.cachedInputTokens, tokens.inputTokens);
  return (
    ((tokens.inputTokens - cached) * price.input +
      cached * price.cachedInput +
      tokens.outputTokens * price.output) /
    1_000_000
  );
}

type PriceRow = typeof llmPrices.$inferSelect;

function toPrice(row: PriceRow): LlmPrice {
  return {
    id: row.id,
    model: row.model,
    inputPerMTok: row.inputPerMTok,
    outputPerMTok: row.outputPerMTok,
    cachedInputPerMTok: row.cachedInputPerMTok,
    source: "org",
  };
}

const BUILTIN: LlmPrice[] = Object.entries(KNOWN_MODELS)
  .filter(([, m]) => m.price)
  .map(([model, m]) => ({
    id: null,
    model,
    inputPerMTok: m.price!.input,
    outputPerMTok: m.price!.output,
    cachedInputPerMTok: m.price!.cachedInput,
    source: "builtin" as const,
  }));

/**
 * The price table: built-in list prices, overridden per org by a full model ref (`openai/gpt-4.1`) or a
 * bare model id (`gpt-4.1`, any provider). Most specific wins: org ref, org id, built-in.
 */
export class PriceService {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async list(access: OrgAccess): Promise<LlmPrice[]> {
    requirePermission(access.role, "llm.read");
    const rows = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(llmPrices).orderBy(llmPrices.model),
    );
    return [...rows.map(toPrice), ...BUILTIN];
  }

  async upsert(access: OrgAccess, input: UpsertLlmPriceBody): Promise<LlmPrice> {
    requirePermission(access.role, "llm.manage");
    const values = {
      inputPerMTok: input.inputPerMTok,
      outputPerMTok: input.outputPerMTok,
      cachedInputPerMTok: input.cachedInputPerMTok ?? null,
      updatedBy: access.userId,
      updatedAt: new Date(),
    };
    const [row] = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx
        .insert(llmPrices)
        .values({ id: randomUUID(), model: input.model, ...values })
        .onConflictDoUpdate({ target: llmPrices.model, set: values })
        .returning(),
    );
    return toPrice(row!);
  }

  async delete(access: OrgAccess, id: string): Promise<void> {
    requirePermission(access.role, "llm.manage");
    const deleted = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx.delete(llmPrices).where(eq(llmPrices.id, id)).returning({ id: llmPrices.id }),
    );
    if (deleted.length === 0) throw new NotFoundError("price_not_found", "price not found");
  }

  /** The price of one model, inside the caller's tenant transaction; undefined when nobody set one. */
  async priceFor(tx: Executor, provider: string, modelId: string): Promise<Price | undefined> {
    const ref = `${provider}/${modelId}`;
    const rows = await tx
      .select()
      .from(llmPrices)
      .where(inArray(llmPrices.model, [ref, modelId]));
    const row = rows.find((r) => r.model === ref) ?? rows.find((r) => r.model === modelId);
    if (row) {
      return {
        input: row.inputPerMTok,
        output: row.outputPerMTok,
        cachedInput: row.cachedInputPerMTok ?? row.inputPerMTok,
      };
    }
    return knownModel(modelId)?.model.price;
  }
}
