import type { AutomationJobKind } from "@kiln/protocol";
import type { OrgRow } from "../../orgs/service.ts";

/** What a `start_job` action asks the job queue for. */
export interface StartJobContext {
  org: OrgRow;
  projectId: string;
  taskId: string;
  kind: AutomationJobKind;
  /** The person whose change set the rule off; null when an agent's or Kiln's own change did. */
  requestedBy: string | null;
  instructions?: string;
  /** The org's agent the job runs; absent: Kiln's built-in agent. */
  agentId?: string;
  /** The rule that asked. */
  ruleId?: string;
  /**
   * The depth the rule ran at. A job that changes its task (moves it to Review, comments) may pass this on as
   * its changes' depth, so rules and jobs setting each other off stop at the same limit.
   */
  depth?: number;
}

/**
 * Starts AI jobs for automation rules. The job queue (jobs/) implements it; automation works without one and
 * notes "no job runner configured" in the task's activity instead.
 */
export interface JobStarter {
  startJob(ctx: StartJobContext): Promise<{ jobId: string }>;
}
