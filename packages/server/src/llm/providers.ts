import { randomUUID } from "node:crypto";
import { type AddressPolicy, createEgressFetch } from "@kiln/agent";
import {
  type CreateLlmProviderBody,
  type LlmConfiguredModel,
  LlmConfiguredModel as LlmConfiguredModelSchema,
  type LlmProvider,
  type LlmProviderKind,
  type UpdateLlmProviderBody,
} from "@kiln/protocol";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../db/errors.ts";
import { llmProviders } from "../db/schema-tenant.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../orgs/service.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import { assertEgressAllowed } from "./egress.ts";
import { DEFAULT_BASE_URL, normalizeBaseUrl, type ProviderSpec } from "./provider-factory.ts";

type ProviderRow = typeof llmProviders.$inferSelect;

const StoredModels = z.array(LlmConfiguredModelSchema).catch([]);

/** Shows enough of a key to recognise it (`sk-…abcd`), never enough to use it. */
export function keyHint(key: string): string {
  if (key.length >= 16) return `${key.slice(0, 3)}…${key.slice(-4)}`;
  if (key.length >= 8) return `…${key.slice(-2)}`;
  return "…";
}

function toProvider(row: ProviderRow): LlmProvider {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as LlmProviderKind,
    baseUrl: row.baseUrl,
    apiKeyHint: row.apiKeyHint,
    models: StoredModels.parse(row.models),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * An org's own providers. Keys are sealed with the SecretBox, bound to `org:<id>:llm-provider:<row id>`,
 * so a sealed key copied into another row or org does not open; they leave this class only inside a
 * ProviderSpec for a model call, never in an API response.
 */
export class ProviderService {
  readonly #database: Database;
  readonly #secrets: SecretBox;
  readonly #egress: AddressPolicy;
  readonly #fetch: typeof fetch;

  /** `egress`: the server's address policy; org providers get no exemption beyond the operator's. */
  constructor(database: Database, secrets: SecretBox, options: { egress: AddressPolicy }) {
    this.#database = database;
    this.#secrets = secrets;
    this.#egress = options.egress;
    this.#fetch = createEgressFetch(options.egress);
  }

  async list(access: OrgAccess): Promise<LlmProvider[]> {
    requirePermission(access.role, "llm.read");
    const rows = await this.#database.tenant(access.org.schemaName, (tx) =>
      tx.select().from(llmProviders).orderBy(llmProviders.name),
    );
    return rows.map(toProvider);
  }

  async create(access: OrgAccess, input: CreateLlmProviderBody): Promise<LlmProvider> {
    requirePermission(access.role, "llm.manage");
    const baseUrl = await this.#baseUrl(input.kind, input.baseUrl);
    const id = randomUUID();
    const row = await this.#database.tenant(access.org.schemaName, async (tx) => {
      const [inserted] = await tx
        .insert(llmProviders)
        .values({
          id,
          name: input.name,
          kind: input.kind,
          baseUrl,
          ...this.#sealKey(access.org, id, input.apiKey),
          models: input.models ?? [],
          createdBy: access.userId,
        })
        .onConflictDoNothing()
        .returning();
      if (inserted) {
        await recordAudit(tx, {
          orgId: access.org.id,
          action: "llm.provider_created",
          actor: userActor(access),
          target: providerTarget(inserted),
          data: { ...providerData(inserted), hasKey: inserted.apiKeySealed !== null },
        });
      }
      return inserted;
    });
    if (!row) throw nameTaken(input.name);
    return toProvider(row);
  }

  async update(access: OrgAccess, id: string, input: UpdateLlmProviderBody): Promise<LlmProvider> {
    requirePermission(access.role, "llm.manage");
    // Checked before the transaction, which should not wait on DNS; a provider's kind never changes.
    let newBaseUrl: string | null | undefined;
    if (input.baseUrl !== undefined) {
      const { kind } = await this.#database.tenant(access.org.schemaName, (tx) => findProvider(tx, id));
      newBaseUrl = await this.#baseUrl(kind as LlmProviderKind, input.baseUrl ?? undefined);
    }
    try {
      const row = await this.#database.tenant(access.org.schemaName, async (tx) => {
        const current = await findProvider(tx, id);
        const baseUrl = newBaseUrl === undefined ? current.baseUrl : newBaseUrl;
        const key =
          input.apiKey === undefined
            ? {}
            : input.apiKey === null
              ? { apiKeySealed: null, apiKeyHint: null }
              : this.#sealKey(access.org, current.id, input.apiKey);
        const [updated] = await tx
          .update(llmProviders)
          .set({
            name: input.name ?? current.name,
            baseUrl,
            ...key,
            models: input.models ?? current.models,
            updatedAt: new Date(),
          })
          .where(eq(llmProviders.id, current.id))
          .returning();
        const before = providerData(current);
        const after = providerData(updated!);
        const changed = [
          ...(current.name === updated!.name ? [] : ["name"]),
          ...(Object.keys(after) as (keyof typeof after)[]).filter(
            (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
          ),
          ...(input.apiKey === undefined ? [] : ["key"]),
        ];
        await recordAudit(tx, {
          orgId: access.org.id,
          action: "llm.provider_updated",
          actor: userActor(access),
          target: providerTarget(updated!),
          data: {
            changed,
            ...after,
            ...(current.name === updated!.name ? {} : { previousName: current.name }),
            ...(input.apiKey === undefined ? {} : { keyChanged: true, hasKey: input.apiKey !== null }),
          },
        });
        return updated!;
      });
      return toProvider(row);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw nameTaken(input.name ?? "");
      throw err;
    }
  }

  async delete(access: OrgAccess, id: string): Promise<void> {
    requirePermission(access.role, "llm.manage");
    await this.#database.tenant(access.org.schemaName, async (tx) => {
      const current = await findProvider(tx, id);
      await tx.delete(llmProviders).where(eq(llmProviders.id, current.id));
      await recordAudit(tx, {
        orgId: access.org.id,
        action: "llm.provider_deleted",
        actor: userActor(access),
        target: providerTarget(current),
        data: providerData(current),
      });
    });
  }

  /** The org's providers, keys opened, ready for calls. No permission check: callers have done theirs. */
  /** `tx`: a transaction in the org's schema already open. */
  async specs(org: OrgRow, tx?: Executor): Promise<ProviderSpec[]> {
    const read = (ex: Executor) => ex.select().from(llmProviders);
    const rows = tx ? await read(tx) : await this.#database.tenant(org.schemaName, read);
    return rows.map((row) => this.#spec(org, row));
  }

  #spec(org: OrgRow, row: ProviderRow): ProviderSpec {
    const kind = row.kind as LlmProviderKind;
    let apiKey: string | undefined;
    let keyError: string | undefined;
    try {
      apiKey = row.apiKeySealed
        ? this.#secrets.decrypt(row.apiKeySealed, keyContext(org, row.id))
        : undefined;
    } catch {
      keyError = `the stored key of provider "${row.name}" cannot be decrypted (was KILN_SECRET_KEY changed?); set it again`;
    }
    return {
      ...(keyError ? { keyError } : {}),
      name: row.name,
      kind,
      source: "org",
      // Kinds with no public endpoint always have one stored (create refuses them without).
      baseUrl: row.baseUrl ?? DEFAULT_BASE_URL[kind] ?? "",
      apiKey,
      models: StoredModels.parse(row.models) as LlmConfiguredModel[],
      fetch: this.#fetch,
      cacheKey: `org:${org.id}:${row.id}:${row.updatedAt.getTime()}`,
    };
  }

  async #baseUrl(kind: LlmProviderKind, raw: string | undefined): Promise<string | null> {
    if (raw === undefined) {
      if (DEFAULT_BASE_URL[kind]) return null;
      throw new BadRequestError("validation_failed", `a ${kind} provider needs a baseUrl`);
    }
    let normalized: string;
    try {
      normalized = normalizeBaseUrl(kind, raw);
    } catch (err) {
      throw new BadRequestError("validation_failed", `baseUrl: ${(err as Error).message}`);
    }
    // Refused now when it already resolves somewhere refused; checked again at every connection.
    await assertEgressAllowed(this.#egress, normalized);
    return normalized;
  }

  #sealKey(org: OrgRow, id: string, key: string | undefined) {
    if (key === undefined) return { apiKeySealed: null, apiKeyHint: null };
    if (key.trim() !== key || [...key].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
      throw new BadRequestError(
        "validation_failed",
        "apiKey must not contain spaces at its ends or control characters",
      );
    }
    return { apiKeySealed: this.#secrets.encrypt(key, keyContext(org, id)), apiKeyHint: keyHint(key) };
  }
}

function providerTarget(row: ProviderRow) {
  return { type: "llm_provider", id: row.id, label: row.name };
}

/** What an audit record says of a provider: never its key, only whether it has one. */
function providerData(row: ProviderRow) {
  return {
    kind: row.kind,
    baseUrl: row.baseUrl,
    models: StoredModels.parse(row.models).map((m) => m.id),
  };
}

function keyContext(org: OrgRow, providerId: string): string {
  return `org:${org.id}:llm-provider:${providerId}`;
}

async function findProvider(tx: Executor, id: string): Promise<ProviderRow> {
  const [row] = await tx.select().from(llmProviders).where(eq(llmProviders.id, id)).limit(1);
  if (!row) throw new NotFoundError("provider_not_found", "provider not found");
  return row;
}

function nameTaken(name: string): ConflictError {
  return new ConflictError("provider_name_taken", `a provider named "${name}" already exists in this org`);
}
