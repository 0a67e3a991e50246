import type { Agent } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { agentsQuery } from "../../api/queries.ts";
import { useProject } from "../../state/project-context.tsx";
import { agentLabel, agentValue } from "./assignee.ts";
import { taskJobsQuery } from "./queries.ts";

/** The org's agents (ADR 0035) for the board's agent choices; the built-in "Kiln" is always among them. */
export function useOrgAgents(): readonly Agent[] | undefined {
  const { org } = useProject();
  return useQuery(agentsQuery(org)).data;
}

/**
 * One `<option>` per agent for an assignee or job-agent select, valued as `agentValue` (the built-in:
 * "agent"). A value naming an agent not listed (archived since) keeps an option, so the select still
 * shows it; before the list loads, the built-in's plain "Agent".
 */
export function AgentOptions({
  agents,
  current,
  prefix = "",
}: {
  agents: readonly Agent[] | undefined;
  /** The select's value, to keep an unlisted agent shown. */
  current: string;
  /** "Agent: " where the options share a select with members. */
  prefix?: string;
}) {
  const values = agents?.map((a) => agentValue(a.id)) ?? ["agent"];
  return (
    <>
      {agents ? (
        agents.map((a) => (
          <option key={a.id} value={agentValue(a.id)}>
            {`${prefix}${a.icon} ${a.name}`}
          </option>
        ))
      ) : (
        <option value="agent">{`${prefix}Agent`}</option>
      )}
      {current.startsWith("agent") && !values.includes(current) && (
        <option value={current}>{`${prefix}Archived agent`}</option>
      )}
    </>
  );
}

/** Names the agent a task's job ran ("✏️ Copy editor"), for comments and activity by that job. */
export function useJobAgentName(taskId: string): (jobId: string | null) => string | undefined {
  const { org } = useProject();
  const agents = useOrgAgents();
  const jobs = useQuery(taskJobsQuery(org, taskId)).data;
  return (jobId) => {
    const job = jobId ? jobs?.find((j) => j.id === jobId) : undefined;
    return job && agents ? agentLabel(job.agent?.id, agents) : undefined;
  };
}
