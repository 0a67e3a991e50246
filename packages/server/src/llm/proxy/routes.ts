import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4StreamPart,
} from "@ai-sdk/provider";
import { ErrorEnvelope, IdOrSlug, JOB_TOKEN_PREFIX } from "@kiln/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { presentedToken } from "../../auth/hook.ts";
import { NotFoundError, UnauthenticatedError } from "../../errors/errors.ts";
import { principalOf } from "../../http/principal.ts";
import { requirePermission } from "../../orgs/roles.ts";
import type { OrgService } from "../../orgs/service.ts";
import type { ProjectService } from "../../projects/service.ts";
import type { LlmCallContext } from "../call-context.ts";
import { describeFailure } from "../errors.ts";
import type { LlmService } from "../service.ts";
import { AnthropicEventer, anthropicMessage, anthropicToCallOptions } from "./anthropic.ts";
import { AnthropicMessageResponse, MessagesRequest } from "./anthropic-schema.ts";
import { AnthropicBudgetError, OpenAiBudgetError, refusingOverBudget } from "./budget-refusal.ts";
import { refuseImagesIfTextOnly } from "./common.ts";
import { OpenAiChunker, openAiCompletion, openAiToCallOptions } from "./openai.ts";
import { ChatCompletion, ChatCompletionRequest } from "./openai-schema.ts";
import { SseWriter } from "./sse.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["llm-proxy"];
/** Conversations carry whole files; the instance's general body limit is for forms, not prompts. */
const PROXY_BODY_LIMIT = 32 * 1024 * 1024;

const ProxyHeaders = z.looseObject({
  "x-kiln-org": IdOrSlug.optional().describe("Org to bill (id or slug); default: the caller's personal org"),
  "x-kiln-project": IdOrSlug.optional().describe(
    "Project the call is for (id or slug), for the usage report",
  ),
});

const DESCRIPTION =
  "Authenticated with a Kiln token (`Authorization: Bearer kiln_pat_…`, or `x-api-key` for Anthropic " +
  "clients); cookies are ignored. `model` is a Kiln model ref. Every call is rate-limited, retried and " +
  "logged like the studio's own.";

class StreamEndedEarly extends Error {
  constructor() {
    super("the provider's stream ended before the answer was complete");
  }
}

/**
 * The model proxy for workers and tools: OpenAI's Chat Completions and Anthropic's Messages, translated to
 * and from the gateway's (wrapped, logged) AI SDK model, so either API reaches any configured provider.
 */
export function llmProxyRoutes(
  app: FastifyInstance,
  deps: {
    orgs: OrgService;
    projects: ProjectService;
    llm: LlmService;
    bodyLimitBytes: number;
    jobTokens?: ProxyJobTokens | undefined;
  },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const bodyLimit = Math.max(deps.bodyLimitBytes, PROXY_BODY_LIMIT);
  // Shutdown must not wait for streams that a worker keeps reading.
  const live = new Set<AbortController>();
  app.addHook("preClose", async () => {
    for (const controller of live) controller.abort();
  });

  async function prepare(request: FastifyRequest, reply: FastifyReply, model: string) {
    const ctx = await callContext(request, deps);
    const resolved = await deps.llm.gateway.languageModel(ctx, model === "default" ? undefined : model);
    const controller = new AbortController();
    live.add(controller);
    // The caller hanging up cancels the upstream call (and is logged as cancelled).
    reply.raw.on("close", () => {
      live.delete(controller);
      if (!reply.raw.writableFinished) controller.abort();
    });
    return { ...resolved, signal: controller.signal };
  }

  r.post(
    "/v1/chat/completions",
    {
      bodyLimit,
      config: { auth: "required", tokenOnly: true },
      schema: {
        tags,
        summary: "OpenAI-compatible chat completions through Kiln's gateway",
        description: DESCRIPTION,
        security: [{ bearer: [] }],
        headers: ProxyHeaders,
        body: ChatCompletionRequest,
        response: { 200: ChatCompletion, 402: OpenAiBudgetError, ...errors },
      },
    },
    async (request, reply) =>
      refusingOverBudget(reply, "openai", async () => {
        const body = request.body;
        const { model, modelRef, signal, images } = await prepare(request, reply, body.model);
        const options = openAiToCallOptions(body, signal);
        refuseImagesIfTextOnly({ images, modelRef }, options);
        if (!body.stream) {
          const result = await generate(reply, model, options);
          return result ? openAiCompletion(result, modelRef) : reply;
        }
        const chunker = new OpenAiChunker(modelRef, body.stream_options?.include_usage === true);
        await streamTo(reply, model, options, {
          start: async (sse) => sse.data(chunker.start()),
          part: async (sse, part) => {
            for (const chunk of chunker.onPart(part)) await sse.data(chunk);
          },
          end: async (sse) => sse.data("[DONE]"),
          error: async (sse, err) => {
            const failure = describeFailure(err);
            await sse.data({ error: { message: failure.message, type: failure.code, code: failure.code } });
          },
        });
        return reply;
      }),
  );

  r.get(
    "/v1/models",
    {
      config: { auth: "required", tokenOnly: true },
      schema: {
        tags,
        summary: "The models the org can use, as Kiln model refs, in OpenAI's or Anthropic's list shape",
        description: DESCRIPTION,
        security: [{ bearer: [] }, { apiKey: [] }],
        headers: ProxyHeaders,
        response: { 200: ModelListResponse, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const access = await deps.orgs.access(principal.userId, await orgRefOf(request, deps.orgs), principal);
      const { models } = await deps.llm.gateway.listModels(access);
      if (request.headers["anthropic-version"] === undefined) {
        return {
          object: "list" as const,
          data: models.map((m) => ({
            id: m.ref,
            object: "model" as const,
            created: 0,
            owned_by: m.provider,
          })),
        };
      }
      return {
        data: models.map((m) => ({
          type: "model" as const,
          id: m.ref,
          display_name: m.ref,
          created_at: new Date(0).toISOString(),
        })),
        has_more: false,
        first_id: models[0]?.ref ?? null,
        last_id: models.at(-1)?.ref ?? null,
      };
    },
  );

  r.post(
    "/v1/messages",
    {
      bodyLimit,
      config: { auth: "required", tokenOnly: true },
      schema: {
        tags,
        summary: "Anthropic-compatible messages through Kiln's gateway",
        description: DESCRIPTION,
        security: [{ apiKey: [] }, { bearer: [] }],
        headers: ProxyHeaders,
        body: MessagesRequest,
        response: { 200: AnthropicMessageResponse, 402: AnthropicBudgetError, ...errors },
      },
    },
    async (request, reply) =>
      refusingOverBudget(reply, "anthropic", async () => {
        const body = request.body;
        const { model, modelRef, signal, images } = await prepare(request, reply, body.model);
        const options = anthropicToCallOptions(body, signal);
        refuseImagesIfTextOnly({ images, modelRef }, options);
        if (!body.stream) {
          const result = await generate(reply, model, options);
          return result ? anthropicMessage(result, modelRef) : reply;
        }
        const eventer = new AnthropicEventer(modelRef);
        const send = async (sse: SseWriter, events: Array<{ event: string; data: object }>) => {
          for (const e of events) await sse.data(e.data, e.event);
        };
        await streamTo(reply, model, options, {
          start: (sse) => send(sse, eventer.start()),
          part: (sse, part) => send(sse, eventer.onPart(part)),
          end: async () => {},
          error: async (sse, err) => {
            const failure = describeFailure(err);
            await sse.data(
              {
                type: "error",
                error: { type: anthropicErrorType(failure.status), message: failure.message },
              },
              "error",
            );
          },
        });
        return reply;
      }),
  );
}

const ModelListResponse = z
  .union([
    z.object({
      object: z.literal("list"),
      data: z.array(
        z.object({
          id: z.string(),
          object: z.literal("model"),
          created: z.number().int(),
          owned_by: z.string(),
        }),
      ),
    }),
    z.object({
      data: z.array(
        z.object({
          type: z.literal("model"),
          id: z.string(),
          display_name: z.string(),
          created_at: z.string(),
        }),
      ),
      has_more: z.boolean(),
      first_id: z.string().nullable(),
      last_id: z.string().nullable(),
    }),
  ])
  .meta({
    id: "ProxyModelList",
    description: "OpenAI's list shape; Anthropic's when the request carries an anthropic-version header",
  });

/** Org, project and permission for a proxied call, from the token's user and the x-kiln-* headers. */
/** Verifies a running job's token (jobs/); the proxy serves workers with it. */
export interface ProxyJobTokens {
  verify(token: string): Promise<{
    orgId: string;
    projectId: string;
    jobId: string;
    taskId?: string | null;
    requestedBy?: string | null;
  } | null>;
}

async function callContext(
  request: FastifyRequest,
  deps: { orgs: OrgService; projects: ProjectService; jobTokens?: ProxyJobTokens | undefined },
): Promise<LlmCallContext> {
  const token = presentedToken(request);
  if (!request.principal && token?.startsWith(JOB_TOKEN_PREFIX)) {
    // A worker's call for its job: billed to the job's org and project, whatever headers say.
    const job = await deps.jobTokens?.verify(token);
    if (!job) throw new UnauthenticatedError("token_invalid", "the job token is not valid (any more)");
    return {
      org: await deps.orgs.row(job.orgId),
      projectId: job.projectId,
      jobId: job.jobId,
      ...(job.taskId ? { taskId: job.taskId } : {}),
      ...(job.requestedBy ? { onBehalfOf: job.requestedBy } : {}),
      source: "job",
    };
  }
  const principal = principalOf(request);
  const access = await deps.orgs.access(principal.userId, await orgRefOf(request, deps.orgs), principal);
  requirePermission(access.role, "llm.use");
  const projectRef = header(request, "x-kiln-project");
  const projectId = projectRef === undefined ? undefined : (await deps.projects.get(access, projectRef)).id;
  return { org: access.org, userId: principal.userId, source: "proxy", ...(projectId ? { projectId } : {}) };
}

/** The org named by x-kiln-org, else the caller's personal org. */
async function orgRefOf(request: FastifyRequest, orgs: OrgService): Promise<string> {
  const named = header(request, "x-kiln-org");
  if (named !== undefined) return named;
  const personal = (await orgs.listForUser(principalOf(request).userId)).find((o) => o.personal);
  if (!personal) throw new NotFoundError("org_not_found", "no personal org; send x-kiln-org");
  return personal.id;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** One non-streamed call; undefined when the caller hung up meanwhile (the log says cancelled). */
async function generate(reply: FastifyReply, model: LanguageModelV4, options: LanguageModelV4CallOptions) {
  try {
    return await model.doGenerate(options);
  } catch (err) {
    if (!options.abortSignal?.aborted) throw err;
    reply.hijack();
    reply.raw.destroy();
    return undefined;
  }
}

interface StreamFormat {
  start(sse: SseWriter): Promise<void>;
  part(sse: SseWriter, part: LanguageModelV4StreamPart): Promise<void>;
  end(sse: SseWriter): Promise<void>;
  error(sse: SseWriter, err: unknown): Promise<void>;
}

/**
 * Starts the upstream stream before answering, so a refusal (rate limit, unknown model, provider down
 * after retries) is a plain JSON error with its status; once streaming, errors become the format's
 * error event.
 */
async function streamTo(
  reply: FastifyReply,
  model: LanguageModelV4,
  options: LanguageModelV4CallOptions,
  format: StreamFormat,
): Promise<void> {
  const { stream } = await model.doStream(options);
  reply.hijack();
  const sse = new SseWriter(reply.raw);
  const reader = stream.getReader();
  let done = false;
  try {
    await format.start(sse);
    let finished = false;
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        break;
      }
      const part = next.value;
      if (part.type === "finish") {
        if (part.finishReason.unified === "interrupted") throw new StreamEndedEarly();
        finished = true;
      }
      await format.part(sse, part);
      if (sse.closed) break;
    }
    if (!finished && !sse.closed) throw new StreamEndedEarly();
    await format.end(sse);
  } catch (err) {
    if (!options.abortSignal?.aborted && !sse.closed) await format.error(sse, err);
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    sse.end();
  }
}

function anthropicErrorType(status: number): string {
  if (status === 400) return "invalid_request_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  return "api_error";
}
