import {
  CreateLlmProviderBody,
  ErrorEnvelope,
  Id,
  LlmCallPage,
  LlmCallsQuery,
  LlmModelList,
  LlmPrice,
  LlmProvider,
  LlmSettings,
  LlmUsageQuery,
  LlmUsageReport,
  Ok,
  OrgParams,
  UpdateLlmProviderBody,
  UpdateLlmSettingsBody,
  UpsertLlmPriceBody,
} from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../http/principal.ts";
import type { OrgService } from "../orgs/service.ts";
import type { LlmService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["llm"];
const ProviderParams = OrgParams.extend({ providerId: Id });
const PriceParams = OrgParams.extend({ priceId: Id });

export function llmRoutes(app: FastifyInstance, deps: { orgs: OrgService; llm: LlmService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, llm } = deps;
  const access = (request: { params: { org: string } } & Parameters<typeof principalOf>[0]) =>
    orgs.access(principalOf(request).userId, request.params.org);

  r.get(
    "/api/orgs/:org/usage",
    {
      schema: {
        tags,
        summary: "Model usage of an org: totals and rows per day, model or project",
        params: OrgParams,
        querystring: LlmUsageQuery,
        response: { 200: LlmUsageReport, ...errors },
      },
    },
    async (request) => llm.calls.usage(await access(request), request.query),
  );

  r.get(
    "/api/orgs/:org/llm/calls",
    {
      schema: {
        tags,
        summary: "The model call log, newest first, a page at a time",
        params: OrgParams,
        querystring: LlmCallsQuery,
        response: { 200: LlmCallPage, ...errors },
      },
    },
    async (request) => llm.calls.list(await access(request), request.query),
  );

  r.get(
    "/api/orgs/:org/llm/models",
    {
      schema: {
        tags,
        summary: "Every model the org can use, from its own and the instance's providers",
        params: OrgParams,
        response: { 200: LlmModelList, ...errors },
      },
    },
    async (request) => llm.gateway.listModels(await access(request)),
  );

  r.get(
    "/api/orgs/:org/llm/providers",
    {
      schema: {
        tags,
        summary: "The org's own model providers (keys are never shown)",
        params: OrgParams,
        response: { 200: z.array(LlmProvider), ...errors },
      },
    },
    async (request) => llm.providers.list(await access(request)),
  );

  r.post(
    "/api/orgs/:org/llm/providers",
    {
      schema: {
        tags,
        summary: "Add a model provider to the org (admin)",
        params: OrgParams,
        body: CreateLlmProviderBody,
        response: { 201: LlmProvider, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await llm.providers.create(await access(request), request.body)),
  );

  r.patch(
    "/api/orgs/:org/llm/providers/:providerId",
    {
      schema: {
        tags,
        summary: "Change a model provider: name, URL, key, models (admin)",
        params: ProviderParams,
        body: UpdateLlmProviderBody,
        response: { 200: LlmProvider, ...errors },
      },
    },
    async (request) => llm.providers.update(await access(request), request.params.providerId, request.body),
  );

  r.delete(
    "/api/orgs/:org/llm/providers/:providerId",
    {
      schema: {
        tags,
        summary: "Remove a model provider and its key (admin)",
        params: ProviderParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      await llm.providers.delete(await access(request), request.params.providerId);
      return { ok: true as const };
    },
  );

  r.get(
    "/api/orgs/:org/llm/prices",
    {
      schema: {
        tags,
        summary: "Model prices used for cost estimates: the org's overrides, then built-in list prices",
        params: OrgParams,
        response: { 200: z.array(LlmPrice), ...errors },
      },
    },
    async (request) => llm.prices.list(await access(request)),
  );

  r.put(
    "/api/orgs/:org/llm/prices",
    {
      schema: {
        tags,
        summary: "Set the org's price for a model (admin)",
        params: OrgParams,
        body: UpsertLlmPriceBody,
        response: { 200: LlmPrice, ...errors },
      },
    },
    async (request) => llm.prices.upsert(await access(request), request.body),
  );

  r.delete(
    "/api/orgs/:org/llm/prices/:priceId",
    {
      schema: {
        tags,
        summary: "Drop one of the org's price overrides (admin)",
        params: PriceParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      await llm.prices.delete(await access(request), request.params.priceId);
      return { ok: true as const };
    },
  );

  r.get(
    "/api/orgs/:org/llm/settings",
    {
      schema: {
        tags,
        summary: "The org's default model and rate limit",
        params: OrgParams,
        response: { 200: LlmSettings, ...errors },
      },
    },
    async (request) => llm.settings.get(await access(request)),
  );

  r.patch(
    "/api/orgs/:org/llm/settings",
    {
      schema: {
        tags,
        summary: "Change the org's default model or rate limit (admin)",
        params: OrgParams,
        body: UpdateLlmSettingsBody,
        response: { 200: LlmSettings, ...errors },
      },
    },
    async (request) => llm.settings.update(await access(request), request.body),
  );
}
