import type { LlmCallSource } from "@kiln/protocol";
import type { OrgRow } from "../orgs/service.ts";

/** Who is calling and on whose behalf; every field but `org` and `source` is optional bookkeeping. */
export interface LlmCallContext {
  org: OrgRow;
  userId?: string;
  projectId?: string;
  chatId?: string;
  messageId?: string;
  jobId?: string;
  source: LlmCallSource;
}
