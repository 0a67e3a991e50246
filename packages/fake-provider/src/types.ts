/** Which wire format a request spoke; decided by path (and the `anthropic-version` header for `/v1/models`). */
export type Api = "openai" | "anthropic";

export interface RecordedRequest {
  api: Api;
  method: string;
  /** Path and query as received, e.g. `/v1/chat/completions`. */
  path: string;
  /** Lower-cased header names, as Node gives them (`authorization`, `x-api-key`, `anthropic-version`…). */
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; the raw text when it was not JSON; undefined for GET. */
  body: unknown;
  /** Epoch milliseconds when the request arrived. */
  at: number;
}

/**
 * Token counts a reply reports. `inputTokens` is the whole prompt including cached tokens (what the AI SDK
 * reports as `inputTokens`); on the Anthropic wire the cached part is moved to `cache_read_input_tokens`.
 */
export interface FakeUsage {
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
}

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object is sent as JSON; a string is sent as it is, so malformed JSON can be scripted on purpose. */
  arguments: string | Record<string, unknown>;
}

interface Streaming {
  /** Characters per streamed delta (text, reasoning and tool arguments). Default 8. */
  chunkSize?: number;
  /** Pause before each streamed event; overrides `defaultChunkDelayMs`. */
  delayMs?: number;
  usage?: FakeUsage;
}

export interface TextReply extends Streaming {
  text: string;
  reasoning?: string;
}

export interface ToolCallReply extends Streaming {
  /** Several entries are parallel tool calls in one assistant message. */
  toolCalls: FakeToolCall[];
  text?: string;
}

export interface ErrorReply {
  error: {
    status: number;
    message?: string;
    /** The error `type` on the wire; defaults by status (`rate_limit_error`, `invalid_request_error`…). */
    type?: string;
    /** Sent as `retry-after` (whole seconds, rounded up) and `retry-after-ms`. */
    retryAfterSeconds?: number;
  };
}

/** Headers and N events (N pieces of the body when not streaming) are sent, then the socket is destroyed. */
export interface CutReply {
  cutAfterChunks: number;
  reply: Reply;
}

/** Like `cutAfterChunks`, but the connection then stays open and silent: for idle / per-chunk timeouts. */
export interface StallReply {
  hangAfterChunks: number;
  reply: Reply;
}

/**
 * N events, then an error event in the API's streaming error shape (Anthropic `event: error`, Responses
 * `event: error`, Chat Completions `data: {"error":…}`), then the stream ends. A request that does not stream
 * gets the error as an HTTP response instead (`status`, default 500).
 */
export interface StreamErrorReply {
  errorAfterChunks: number;
  error: { message?: string; type?: string; status?: number };
  reply: Reply;
}

/** Never answers: for timeouts and cancellation. */
export interface HangReply {
  hang: true;
}

/** Stays at the head of the queue forever. */
export interface RepeatReply {
  repeat: Reply;
}

export type Reply =
  | TextReply
  | ToolCallReply
  | ErrorReply
  | CutReply
  | StallReply
  | StreamErrorReply
  | HangReply
  | RepeatReply;

/** `index` counts model calls (chat completions / messages) since start or the last `reset()`, from 0. */
export type Responder = (request: RecordedRequest, index: number) => Reply | Promise<Reply>;

export interface FakeProvider {
  /** `http://host:port`, no trailing slash. OpenAI clients take `${url}/v1`; see README for each SDK. */
  url: string;
  /** Every request received, in order (model calls, `/v1/models`, unknown paths). */
  readonly requests: RecordedRequest[];
  enqueue(...replies: Reply[]): void;
  /** Takes precedence over the queue while set. */
  setResponder(fn: Responder | undefined): void;
  /** Empties the queue and `requests`, drops the responder and restarts the model-call index at 0. */
  reset(): void;
  /** Stops listening and destroys open connections (hung requests included). */
  close(): Promise<void>;
}

export interface FakeProviderOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  replies?: Reply[];
  responder?: Responder;
  /** Listed by `GET /v1/models`. Default `["fake-model"]`. */
  models?: string[];
  /** Pause before each streamed event unless a reply sets `delayMs`. Default 0. */
  defaultChunkDelayMs?: number;
}
