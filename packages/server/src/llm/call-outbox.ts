import path from "node:path";
import { LlmCallSource, LlmCallStatus } from "@kiln/protocol";
import { z } from "zod";

/** Where LLM call rows wait while the database is away (Kiln's own directory, never a tenant's). */
export function callOutboxFile(dataDir: string): string {
  return path.join(dataDir, "outbox", "llm-calls.jsonl");
}

const optionalText = z.string().optional();
const count = z.number().int().nonnegative();

/**
 * A call row as it waits in the outbox: JSON-safe (`createdAt` an ISO string) and named by the tenant
 * schema it goes to. The file is read back through this schema, so a line from an older Kiln or a torn
 * one is skipped rather than written half.
 */
export const QueuedCall = z.object({
  id: z.uuid(),
  orgId: z.string(),
  schemaName: z.string(),
  projectId: optionalText,
  chatId: optionalText,
  messageId: optionalText,
  jobId: optionalText,
  userId: optionalText,
  onBehalfOf: optionalText,
  source: LlmCallSource,
  provider: z.string(),
  model: z.string(),
  stream: z.boolean(),
  inputTokens: count,
  outputTokens: count,
  cachedInputTokens: count,
  tokensEstimated: z.boolean(),
  ttftMs: z.number().nullable(),
  durationMs: z.number(),
  status: LlmCallStatus,
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  attempts: z.number().int(),
  createdAt: z.iso.datetime(),
});
export type QueuedCall = z.infer<typeof QueuedCall>;
