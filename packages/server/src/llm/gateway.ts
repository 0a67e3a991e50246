import type { LanguageModelV4 } from "@ai-sdk/provider";
import { AddressPolicy, createEgressFetch } from "@kiln/agent";
import type { LlmModel, LlmModelList } from "@kiln/protocol";
import { wrapLanguageModel } from "ai";
import type { FastifyBaseLogger } from "fastify";
import type { LlmConfig } from "../config.ts";
import type { Database, Executor } from "../db/client.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../orgs/service.ts";
import type { BudgetGuard } from "./budget-guard.ts";
import type { LlmCallContext } from "./call-context.ts";
import type { CallLog } from "./call-log.ts";
import { acceptsImages, defaultContextWindow, FALLBACK_MODEL, knownModel } from "./catalog.ts";
import { instancePolicy } from "./egress.ts";
import { ModelNotConfiguredError, ProviderCallError, ProviderNotFoundError } from "./errors.ts";
import { gatewayMiddleware } from "./middleware.ts";
import type { ModelLists } from "./model-lists.ts";
import { formatModelRef, parseModelRef } from "./model-ref.ts";
import { createModel, DEFAULT_BASE_URL, normalizeBaseUrl, type ProviderSpec } from "./provider-factory.ts";
import type { ProviderService } from "./providers.ts";
import type { LlmRateLimiter } from "./rate-limit.ts";
import type { SettingsService } from "./settings.ts";

export interface GatewayModel {
  /** Rate-limited, retried and logged; the only kind of model the gateway hands out. */
  model: LanguageModelV4;
  /** The ref actually used (the default when none was asked for). */
  modelRef: string;
  contextWindow: number;
  /** Whether the model is sent images (ADR 0041); a turn with images for one that is not is refused. */
  images: boolean;
}

export interface GatewayDeps {
  config: LlmConfig;
  /** The org's settings and providers are read in one transaction per model handed out. */
  database: Database;
  /** The server's egress address policy (KILN_EGRESS_ALLOW included). */
  egress: AddressPolicy;
  providers: ProviderService;
  settings: SettingsService;
  calls: CallLog;
  limiter: LlmRateLimiter;
  modelLists: ModelLists;
  log: FastifyBaseLogger;
  /** Spend budgets (ADR 0029); none: no call is capped. */
  budgets?: BudgetGuard | undefined;
}

/**
 * Resolves model refs to provider models: an org's own provider of that name first, then the instance's
 * (from the environment). Each model comes wrapped by `gatewayMiddleware`.
 */
export class LlmGateway {
  readonly #deps: GatewayDeps;
  readonly #instance: ProviderSpec[];
  readonly #instanceDefault: string | undefined;

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
    this.#instance = instanceSpecs(deps.config, deps.egress);
    const fallback = this.#instance
      .map((s) => (FALLBACK_MODEL[s.kind] ? formatModelRef(s.name, FALLBACK_MODEL[s.kind]!) : undefined))
      .find((ref) => ref !== undefined);
    this.#instanceDefault = deps.config.defaultModel ?? fallback;
    // The default model is offered even by a provider whose own list leaves it out.
    if (this.#instanceDefault) {
      const { provider, modelId } = parseModelRef(this.#instanceDefault);
      this.#instance.find((s) => s.name === provider)?.models.push({ id: modelId });
    }
  }

  /** KILN_MODEL, or a sensible model of the first provider configured from the environment. */
  get instanceDefaultModel(): string | undefined {
    return this.#instanceDefault;
  }

  /**
   * `tx`: a transaction already open in the org's schema, read in instead of a new one (a chat turn resolves
   * its model inside the transaction that stores it: on its way to the first token each one is a round trip).
   */
  async languageModel(ctx: LlmCallContext, modelRef?: string, tx?: Executor): Promise<GatewayModel> {
    const read = async (ex: Executor) =>
      [await this.#deps.settings.forOrg(ctx.org, ex), await this.#deps.providers.specs(ctx.org, ex)] as const;
    // One transaction for both reads.
    const [settings, own] = tx ? await read(tx) : await this.#deps.database.tenant(ctx.org.schemaName, read);
    const ref = modelRef ?? settings.defaultModel ?? this.#instanceDefault;
    if (!ref) throw new ModelNotConfiguredError();
    const { provider, modelId } = parseModelRef(ref);
    const spec = this.#merge(own).find((s) => s.name === provider);
    if (!spec) throw new ProviderNotFoundError(provider);
    if (spec.keyError)
      throw new ProviderCallError({ code: "provider_auth_failed", status: 502, message: spec.keyError });
    const model = wrapLanguageModel({
      model: createModel(spec, modelId),
      middleware: gatewayMiddleware(
        { ctx, provider, modelId, rateLimitPerMinute: this.#deps.settings.effectiveRateLimit(settings) },
        {
          limiter: this.#deps.limiter,
          calls: this.#deps.calls,
          log: this.#deps.log,
          budgets: this.#deps.budgets,
          retry: {
            maxRetries: this.#deps.config.maxRetries,
            baseMs: this.#deps.config.retryBaseMs,
            maxWaitSeconds: this.#deps.config.maxRetryWaitSeconds,
          },
        },
      ),
    });
    return {
      model,
      modelRef: ref,
      contextWindow: this.#contextWindow(spec, modelId),
      images: acceptsImages(spec.kind, modelId, spec.models.find((m) => m.id === modelId)?.images),
    };
  }

  /** Every model an org can use: configured ones plus what each provider lists, org providers first. */
  async listModels(access: OrgAccess): Promise<LlmModelList> {
    requirePermission(access.role, "llm.read");
    const [specs, settings] = await Promise.all([
      this.#specs(access.org),
      this.#deps.settings.forOrg(access.org),
    ]);
    const listed = await Promise.all(
      specs.map((spec) =>
        spec.keyError ? { models: [], error: spec.keyError } : this.#deps.modelLists.get(spec),
      ),
    );
    const models: LlmModel[] = [];
    specs.forEach((spec, i) => {
      const seen = new Set<string>();
      const add = (modelId: string, contextWindow: number | undefined) => {
        if (seen.has(modelId)) return;
        seen.add(modelId);
        models.push({
          ref: formatModelRef(spec.name, modelId),
          provider: spec.name,
          modelId,
          source: spec.source,
          contextWindow: contextWindow ?? this.#contextWindow(spec, modelId),
        });
      };
      for (const m of spec.models) add(m.id, m.contextWindow);
      for (const m of listed[i]!.models) add(m.id, m.contextWindow);
    });
    return {
      defaultModel: settings.defaultModel ?? this.#instanceDefault ?? null,
      models,
      providers: specs.map((spec, i) => ({
        name: spec.name,
        kind: spec.kind,
        source: spec.source,
        listError: listed[i]!.error,
      })),
    };
  }

  /** Org providers, then instance providers whose names no org provider took. */
  async #specs(org: OrgRow): Promise<ProviderSpec[]> {
    return this.#merge(await this.#deps.providers.specs(org));
  }

  #merge(own: ProviderSpec[]): ProviderSpec[] {
    const taken = new Set(own.map((s) => s.name));
    return [
      ...own.sort((a, b) => a.name.localeCompare(b.name)),
      ...this.#instance.filter((s) => !taken.has(s.name)),
    ];
  }

  #contextWindow(spec: ProviderSpec, modelId: string): number {
    return (
      spec.models.find((m) => m.id === modelId)?.contextWindow ??
      this.#deps.modelLists.peek(spec)?.find((m) => m.id === modelId)?.contextWindow ??
      knownModel(modelId)?.model.contextWindow ??
      defaultContextWindow(spec.kind)
    );
  }
}

/**
 * Providers configured from the environment; their names are their kinds. Their requests go through the
 * egress policy too, with each one's own configured host and port exempt (the operator chose it) — a
 * redirect it answers with is still checked.
 */
export function instanceSpecs(
  config: LlmConfig,
  egress: AddressPolicy = new AddressPolicy(),
): ProviderSpec[] {
  const specs: ProviderSpec[] = [];
  const add = (kind: ProviderSpec["kind"], configured: string | undefined, apiKey: string | undefined) => {
    const baseUrl = normalizeBaseUrl(kind, configured ?? DEFAULT_BASE_URL[kind]!);
    specs.push({
      name: kind,
      kind,
      source: "instance",
      baseUrl,
      apiKey,
      models: [],
      fetch: createEgressFetch(instancePolicy(egress, [baseUrl])),
      cacheKey: `instance:${kind}`,
    });
  };
  if (config.openaiApiKey || config.openaiBaseUrl) add("openai", config.openaiBaseUrl, config.openaiApiKey);
  if (config.anthropicApiKey || config.anthropicBaseUrl)
    add("anthropic", config.anthropicBaseUrl, config.anthropicApiKey);
  if (config.openrouterApiKey) add("openrouter", undefined, config.openrouterApiKey);
  if (config.ollamaBaseUrl) add("ollama", config.ollamaBaseUrl, undefined);
  return specs;
}
