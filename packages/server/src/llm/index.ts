/**
 * The LLM domain's public surface for the rest of the server and for bench/: the service, the gateway's
 * call context, and the proxy's translations (to measure them without HTTP).
 */

export type { BudgetGuard, BudgetHold, CallEstimate } from "./budget-guard.ts";
export type { LlmCallContext } from "./call-context.ts";
export type { GatewayModel, LlmGateway } from "./gateway.ts";
export { costOf, type Price, PriceService, type TokenCounts } from "./prices.ts";
export { AnthropicEventer, anthropicMessage, anthropicToCallOptions } from "./proxy/anthropic.ts";
export { OpenAiChunker, openAiCompletion, openAiToCallOptions } from "./proxy/openai.ts";
export { LlmService } from "./service.ts";
