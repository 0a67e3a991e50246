import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  anthropicBody,
  anthropicError,
  anthropicFrames,
  anthropicModel,
  anthropicModels,
} from "./anthropic.ts";
import { malformedImage } from "./images.ts";
import { openaiBody, openaiError, openaiFrames, openaiModel, openaiModels } from "./openai.ts";
import { assertReply, estimateTokens, newId, type Resolution, resolveReply } from "./plan.ts";
import { responsesBody, responsesFrames } from "./responses.ts";
import { sendJson, sendStream } from "./send.ts";
import type {
  Api,
  ErrorReply,
  FakeProvider,
  FakeProviderOptions,
  RecordedRequest,
  Reply,
  Responder,
  StreamErrorReply,
} from "./types.ts";

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MODELS_CREATED = 1_700_000_000;
const MODELS_CREATED_AT = new Date(MODELS_CREATED * 1000).toISOString();

/** The three model-call formats: OpenAI Chat Completions, OpenAI Responses, Anthropic Messages. */
type Format = "chat" | "responses" | "messages";

type Route =
  | { kind: "completion"; api: Api; format: Format }
  | { kind: "count-tokens" }
  | { kind: "models"; api: Api; id: string | undefined }
  | { kind: "not-found"; api: Api };

const MODEL_CALLS: Record<string, { api: Api; format: Format }> = {
  "/chat/completions": { api: "openai", format: "chat" },
  "/responses": { api: "openai", format: "responses" },
  "/messages": { api: "anthropic", format: "messages" },
};

/**
 * Every route is served with or without the `/v1` prefix, so a base URL given one level off still works.
 * `/v1/models` is shared by both APIs; the `anthropic-version` header (always sent by Anthropic clients) decides.
 */
function route(method: string, path: string, headers: IncomingMessage["headers"]): Route {
  const p = path.replace(/\/+$/, "").replace(/^\/v1(?=\/)/, "");
  const headerApi: Api = headers["anthropic-version"] !== undefined ? "anthropic" : "openai";
  const call = MODEL_CALLS[p];
  if (method === "POST" && call) return { kind: "completion", ...call };
  if (method === "POST" && p === "/messages/count_tokens") return { kind: "count-tokens" };
  if (method === "GET" && p === "/models") return { kind: "models", api: headerApi, id: undefined };
  const model = /^\/models\/([^/]+)$/.exec(p);
  if (method === "GET" && model) return { kind: "models", api: headerApi, id: decodeURIComponent(model[1]!) };
  return { kind: "not-found", api: p.startsWith("/messages") ? "anthropic" : headerApi };
}

function routeApi(r: Route): Api {
  return r.kind === "count-tokens" ? "anthropic" : r.api;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  // Reads to the end even when too large: leaving the loop early would destroy the socket before the 413.
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size <= MAX_BODY_BYTES) parts.push(part);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(parts).toString("utf8");
}

function sendError(
  res: ServerResponse,
  api: Api,
  status: number,
  message: string,
  extra?: Record<string, string>,
) {
  const body = api === "openai" ? openaiError(status, message) : anthropicError(status, message);
  sendJson(res, status, body, { ...requestIdHeader(api), ...extra });
}

function sendScriptedError(res: ServerResponse, api: Api, error: ErrorReply["error"]) {
  const { status, message, type, retryAfterSeconds } = error;
  const headers = requestIdHeader(api);
  if (retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(Math.ceil(retryAfterSeconds));
    headers["retry-after-ms"] = String(Math.round(retryAfterSeconds * 1000));
  }
  const text = message ?? `fake-provider: scripted error ${status}`;
  const body = api === "openai" ? openaiError(status, text, type) : anthropicError(status, text, type);
  sendJson(res, status, body, headers);
}

/** An error that arrives inside an already started 200 stream, as each API sends one. */
function streamErrorFrame(format: Format, error: StreamErrorReply["error"], sequence: number): string {
  const status = error.status ?? 500;
  const message = error.message ?? `fake-provider: scripted stream error ${status}`;
  if (format === "chat") return `data: ${JSON.stringify(openaiError(status, message, error.type))}\n\n`;
  if (format === "messages") {
    return `event: error\ndata: ${JSON.stringify(anthropicError(status, message, error.type))}\n\n`;
  }
  const code = openaiError(status, message, error.type).error.type;
  const data = { type: "error", sequence_number: sequence, code, message, param: null };
  return `event: error\ndata: ${JSON.stringify(data)}\n\n`;
}

function requestIdHeader(api: Api): Record<string, string> {
  return api === "openai" ? { "x-request-id": newId("req_") } : { "request-id": newId("req_") };
}

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const models = options.models?.length ? [...options.models] : ["fake-model"];
  const defaultDelayMs = options.defaultChunkDelayMs ?? 0;
  const requests: RecordedRequest[] = [];
  const queue: Reply[] = [];
  let responder: Responder | undefined = options.responder;
  let modelCalls = 0;

  const enqueue = (...replies: Reply[]) => {
    replies.forEach((reply, i) => {
      assertReply(reply, `reply ${i}`);
    });
    queue.push(...replies);
  };
  enqueue(...(options.replies ?? []));

  async function nextReply(request: RecordedRequest, index: number): Promise<Reply | undefined> {
    if (responder) {
      const reply = await responder(request, index);
      assertReply(reply, `responder result for request #${index}`);
      return reply;
    }
    const head = queue[0];
    if (head === undefined) return undefined;
    if (!("repeat" in head)) queue.shift();
    return head;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const r = route(method, path.split("?")[0]!, req.headers);
    const api = routeApi(r);
    const raw = method === "GET" || method === "HEAD" ? "" : await readBody(req);
    let body: unknown;
    let badJson = false;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = true;
      }
    }
    const recorded: RecordedRequest = {
      api,
      method,
      path,
      headers: { ...req.headers },
      body,
      at: Date.now(),
    };
    requests.push(recorded);

    if (raw === undefined)
      return sendError(res, api, 413, `fake-provider: request body over ${MAX_BODY_BYTES} bytes`);
    if (badJson) return sendError(res, api, 400, "fake-provider: the request body is not valid JSON");

    switch (r.kind) {
      case "models": {
        if (r.id !== undefined) {
          if (!models.includes(r.id)) return sendError(res, api, 404, `fake-provider: no model ${r.id}`);
          const one =
            api === "openai" ? openaiModel(r.id, MODELS_CREATED) : anthropicModel(r.id, MODELS_CREATED_AT);
          return sendJson(res, 200, one, requestIdHeader(api));
        }
        const list =
          api === "openai"
            ? openaiModels(models, MODELS_CREATED)
            : anthropicModels(models, MODELS_CREATED_AT);
        return sendJson(res, 200, list, requestIdHeader(api));
      }
      case "count-tokens": {
        const tokens = estimateTokens(
          JSON.stringify([(body as { system?: unknown })?.system, messagesOf(body)]),
        );
        return sendJson(res, 200, { input_tokens: tokens }, requestIdHeader(api));
      }
      case "not-found":
        return sendError(res, api, 404, `fake-provider: no route ${method} ${path}`);
      case "completion":
        return complete(r.api, r.format, recorded, res);
    }
  }

  async function complete(
    api: Api,
    format: Format,
    recorded: RecordedRequest,
    res: ServerResponse,
  ): Promise<void> {
    const body = recorded.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      return sendError(res, api, 400, "fake-provider: the body must be a JSON object");
    }
    if (format === "responses" && typeof body.input !== "string" && !Array.isArray(body.input)) {
      return sendError(res, api, 400, "fake-provider: the body needs an `input` string or array");
    }
    if (format !== "responses" && !Array.isArray(body.messages)) {
      return sendError(res, api, 400, "fake-provider: the body needs a `messages` array");
    }
    // Image parts are checked as the real APIs check them (images.ts), before the script is asked.
    const badImage = format === "responses" ? undefined : malformedImage(format, body.messages as unknown[]);
    if (badImage) return sendError(res, api, 400, badImage);
    const index = modelCalls++;
    let reply: Reply | undefined;
    try {
      reply = await nextReply(recorded, index);
    } catch (error) {
      return sendError(
        res,
        api,
        500,
        `fake-provider: the responder failed: ${(error as Error).message ?? error}`,
      );
    }
    if (reply === undefined) {
      // Retrying cannot help: the official SDKs honour x-should-retry, the AI SDK retries at once (retry-after-ms 0).
      return sendError(
        res,
        api,
        500,
        `fake-provider: the script ran out of replies (model call #${index}, ${recorded.method} ${recorded.path}); enqueue more replies or set a responder`,
        { "x-should-retry": "false", "retry-after-ms": "0" },
      );
    }
    const resolution: Resolution = resolveReply(reply, api, body, defaultDelayMs);
    if (resolution.kind === "hang") return;
    if (resolution.kind === "error") return sendScriptedError(res, api, resolution.error);
    const { plan } = resolution;
    const stream = body.stream === true;
    const ending = plan.ending;
    if (ending?.kind === "error" && !stream) {
      return sendScriptedError(res, api, { ...ending.error, status: ending.error.status ?? 500 });
    }
    const stop = ending?.kind === "error" ? undefined : ending;
    const model = typeof body.model === "string" ? body.model : (models[0] ?? "fake-model");
    const created = Math.floor(Date.now() / 1000);
    const headers = requestIdHeader(api);
    const send = (json: unknown, frames: () => string[]) => {
      if (!stream) return sendJson(res, 200, json, headers, stop);
      const all = frames();
      const tail: string[] = [];
      if (ending?.kind === "error") {
        all.length = Math.min(ending.afterChunks, all.length - 1);
        tail.push(streamErrorFrame(format, ending.error, all.length));
      }
      return sendStream(res, all, { headers, delayMs: plan.delayMs, stop, tail });
    };
    if (format === "responses") {
      const meta = { id: newId("resp_"), model, created };
      return send(responsesBody(plan, meta), () => responsesFrames(plan, meta));
    }
    if (format === "chat") {
      const options = body.stream_options as { include_usage?: unknown } | undefined;
      const meta = { id: newId("chatcmpl-"), model, created, includeUsage: options?.include_usage === true };
      return send(openaiBody(plan, meta), () => openaiFrames(plan, meta));
    }
    const meta = { id: newId("msg_"), model };
    return send(anthropicBody(plan, meta), () => anthropicFrames(plan, meta));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, "openai", 500, `fake-provider: internal error: ${String(error)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    requests,
    enqueue,
    setResponder(fn) {
      responder = fn;
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
      responder = undefined;
      modelCalls = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function messagesOf(body: unknown): unknown {
  return body && typeof body === "object" ? (body as { messages?: unknown }).messages : undefined;
}
