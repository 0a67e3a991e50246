import type { FastifyReply } from "fastify";
import { z } from "zod";
import { KilnError } from "../../errors/errors.ts";

/**
 * A call refused by a spend budget (ADR 0029), in the caller's wire format, so the official clients raise
 * their own error type with Kiln's message: OpenAI's `{ error: { message, type, param, code } }` (type as
 * OpenAI's own quota refusal), Anthropic's `{ type: "error", error: { type: "billing_error", message } }`.
 * Both carry `code: "budget_exceeded"` and the budget's details. 402, which neither client retries.
 */
export const OpenAiBudgetError = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.literal("insufficient_quota"),
      param: z.null(),
      code: z.literal("budget_exceeded"),
      details: z.unknown(),
    }),
  })
  .meta({ id: "OpenAiBudgetError" });

export const AnthropicBudgetError = z
  .object({
    type: z.literal("error"),
    error: z.object({
      type: z.literal("billing_error"),
      message: z.string(),
      code: z.literal("budget_exceeded"),
      details: z.unknown(),
    }),
  })
  .meta({ id: "AnthropicBudgetError" });

/** Runs a proxied call; a budget refusal becomes the format's 402 answer, anything else is thrown on. */
export async function refusingOverBudget<T>(
  reply: FastifyReply,
  format: "openai" | "anthropic",
  fn: () => Promise<T>,
): Promise<T | FastifyReply> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof KilnError) || err.code !== "budget_exceeded") throw err;
    const { message, details } = err;
    reply.code(402);
    return format === "openai"
      ? reply.send({
          error: { message, type: "insufficient_quota", param: null, code: "budget_exceeded", details },
        })
      : reply.send({
          type: "error",
          error: { type: "billing_error", message, code: "budget_exceeded", details },
        });
  }
}
