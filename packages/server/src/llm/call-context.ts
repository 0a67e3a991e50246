import type { LlmCallSource } from "@kiln/protocol";
import type { OrgRow } from "../orgs/service.ts";

/** Who is calling and on whose behalf; every field but `org` and `source` is optional bookkeeping. */
export interface LlmCallContext {
  org: OrgRow;
  userId?: string;
  /**
   * The person a job runs for (its requester): named in the audit log as whom the agent acted for, but not
   * the caller — their budgets and limits do not hold the job's calls (ADR 0029).
   */
  onBehalfOf?: string;
  projectId?: string;
  chatId?: string;
  messageId?: string;
  jobId?: string;
  /** The board task a job works on: its budgets apply (ADR 0029). */
  taskId?: string;
  source: LlmCallSource;
  /** Told before each retry of a refused call (the chat shows it); the gateway logs it either way. */
  onRetry?: (notice: ModelRetryNotice) => void;
}

export interface ModelRetryNotice {
  /** 1 for the first retry. */
  retry: number;
  maxRetries: number;
  waitMs: number;
  code: string;
  message: string;
}
