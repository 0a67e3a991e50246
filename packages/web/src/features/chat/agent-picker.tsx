import { type Agent, BUILTIN_AGENT_ID } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { agentsQuery } from "../../api/queries.ts";
import { ChevronDown } from "../../ui/icons.tsx";
import { Menu } from "../../ui/menu.tsx";

/**
 * The chat's agent (ADR 0035) in the chat's header: its icon, name and the version the chat runs. Picking one
 * switches the chat to that agent's current version (picking its own agent again moves it to a newer
 * version); before the chat exists, it is the agent the new chat starts with.
 */
export function AgentPicker({
  org,
  agentId,
  version,
  disabled,
  onPick,
}: {
  org: string;
  /** The chat's agent; null: the built-in (a new chat that picked none). */
  agentId: string | null;
  /** The version the chat runs; null for a chat not created yet (it gets the current one). */
  version: number | null;
  disabled: boolean;
  onPick: (agent: Agent) => void;
}) {
  const navigate = useNavigate();
  const agents = useQuery(agentsQuery(org));
  const id = agentId ?? BUILTIN_AGENT_ID;
  const listed = agents.data?.find((a) => a.id === id);
  // An archived agent is not listed, but the chat still runs its version.
  const archived = useQuery({
    queryKey: keys.agent(org, id),
    queryFn: () => api.agents.get(org, id),
    enabled: agents.isSuccess && !listed,
  });
  const shown = listed ?? archived.data;
  const shownVersion = version ?? shown?.version;
  const outdated = listed && version !== null && version < listed.version;
  return (
    <Menu
      label="Agents"
      align="end"
      className="min-w-0 shrink"
      items={[
        { heading: "Agent" },
        ...(agents.data ?? []).map((a) => ({
          label: `${a.icon} ${a.name}`,
          hint: a.id === id && outdated ? `v${version} → v${a.version}` : `v${a.version}`,
          checked: a.id === id,
          onSelect: () => {
            if (a.id !== id || outdated) onPick(a);
          },
        })),
        "separator" as const,
        {
          label: "Manage agents…",
          onSelect: () => void navigate({ to: "/$org/settings", params: { org }, search: { tab: "agents" } }),
        },
      ]}
      trigger={(props) => (
        <button
          type="button"
          {...props}
          disabled={disabled || !agents.data}
          aria-label={`Agent: ${shown?.name ?? "loading"}${shownVersion ? ` version ${shownVersion}` : ""}`}
          title={shown?.description || undefined}
          data-testid="agent-picker"
          className="flex h-7 max-w-40 min-w-0 items-center gap-1 rounded border border-line px-1.5 text-[12px] text-neutral-300 hover:bg-tint/6 disabled:opacity-60"
        >
          <span aria-hidden>{shown?.icon ?? "🤖"}</span>
          <span className="truncate">{shown?.name ?? "Agent"}</span>
          {shownVersion && (
            <span className={outdated ? "text-amber-400" : "text-neutral-500"}>v{shownVersion}</span>
          )}
          <ChevronDown className="size-3 shrink-0 text-neutral-500" />
        </button>
      )}
    />
  );
}
