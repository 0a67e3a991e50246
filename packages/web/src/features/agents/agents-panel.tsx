import { type Agent, can, type Role } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { keys } from "../../api/keys.ts";
import { agentsQuery, mcpServersQuery, modelsQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { PlusIcon } from "../../ui/icons.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { Section } from "../settings/section.tsx";
import { AgentForm } from "./agent-form.tsx";
import { McpServersSection } from "./mcp-servers-section.tsx";
import { useArchiveAgent, useCreateAgent, useUpdateAgent } from "./mutations.ts";
import { type AgentDraft, draftOf, EMPTY_DRAFT } from "./tools.ts";

type View = { kind: "list" } | { kind: "new"; draft: AgentDraft } | { kind: "open"; id: string };

const when = (iso: string) => new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });

/**
 * The org's agents (ADR 0035): the built-in Kiln agent (read-only; duplicate it to change it), then the org's
 * own. Admins create, edit (each save is a new version) and archive them; every member reads them.
 */
export function AgentsPanel({ org, role }: { org: string; role: Role }) {
  const manage = can(role, "agents.manage");
  const [view, setView] = useState<View>({ kind: "list" });
  if (view.kind === "new")
    return <NewAgent org={org} initial={view.draft} onDone={() => setView({ kind: "list" })} />;
  if (view.kind === "open")
    return (
      <OpenAgent
        org={org}
        id={view.id}
        manage={manage}
        onClose={() => setView({ kind: "list" })}
        onDuplicate={(draft) => setView({ kind: "new", draft })}
      />
    );
  return (
    <div className="flex flex-col gap-8">
      <AgentList
        org={org}
        manage={manage}
        onOpen={(id) => setView({ kind: "open", id })}
        onNew={() => setView({ kind: "new", draft: EMPTY_DRAFT })}
      />
      <McpServersSection org={org} manage={manage} />
    </div>
  );
}

function AgentList({
  org,
  manage,
  onOpen,
  onNew,
}: {
  org: string;
  manage: boolean;
  onOpen: (id: string) => void;
  onNew: () => void;
}) {
  const agents = useQuery(agentsQuery(org));
  const archive = useArchiveAgent(org);
  const confirmArchive = async (a: Agent) => {
    const ok = await confirmDialog({
      title: `Archive “${a.name}”?`,
      description:
        "No chat can pick it any more. Chats that use it keep running their version, and its versions stay readable.",
      confirmLabel: "Archive agent",
      danger: true,
    });
    if (ok) archive.mutate(a.id);
  };
  return (
    <Section
      title="Agents"
      description="What a chat's agent is told, which tools it may use and what it runs on. Each save is a new version; chats keep theirs until switched."
      action={
        manage && (
          <Button size="sm" variant="primary" icon={<PlusIcon className="size-3.5" />} onClick={onNew}>
            New agent
          </Button>
        )
      }
    >
      {agents.isPending ? (
        <LoadingBlock label="Loading agents" />
      ) : agents.isError ? (
        <ErrorState message={describeError(agents.error)} onRetry={() => agents.refetch()} />
      ) : (
        <ul className="divide-y divide-line rounded-lg border border-line" aria-label="Agents">
          {agents.data.map((a) => (
            <li key={a.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2.5 text-[13px]">
              <span className="w-6 shrink-0 text-center text-base" aria-hidden>
                {a.icon}
              </span>
              <div className="min-w-0 flex-1">
                <button
                  type="button"
                  onClick={() => onOpen(a.id)}
                  className="font-medium text-neutral-100 hover:underline"
                >
                  {a.name}
                </button>
                {a.builtIn && (
                  <span className="ml-2 rounded bg-surface-2 px-1.5 py-0.5 text-[11px] text-neutral-300">
                    Built-in · read-only
                  </span>
                )}
                {a.description && <p className="truncate text-xs text-neutral-500">{a.description}</p>}
              </div>
              <span className="hidden text-xs text-neutral-400 sm:inline">
                {a.tools.length} tool{a.tools.length === 1 ? "" : "s"}
              </span>
              <span
                className="text-xs text-neutral-500"
                title={a.builtIn ? "Ships with Kiln" : `Saved ${when(a.updatedAt)}`}
              >
                v{a.version}
              </span>
              <Button size="xs" variant="ghost" onClick={() => onOpen(a.id)} aria-label={`Open ${a.name}`}>
                {manage && !a.builtIn ? "Edit" : "View"}
              </Button>
              {manage && !a.builtIn && (
                <Button
                  size="xs"
                  variant="ghost"
                  aria-label={`Archive ${a.name}`}
                  loading={archive.isPending && archive.variables === a.id}
                  onClick={() => void confirmArchive(a)}
                >
                  Archive
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function NewAgent({ org, initial, onDone }: { org: string; initial: AgentDraft; onDone: () => void }) {
  const models = useQuery(modelsQuery(org));
  const servers = useQuery(mcpServersQuery(org));
  const create = useCreateAgent(org);
  const [errors, setErrors] = useState<FormErrors>();
  return (
    <Section title="New agent" description="Its first version; every later save adds one.">
      <AgentForm
        initial={initial}
        readOnly={false}
        models={models.data}
        servers={servers.data}
        errors={errors}
        pending={create.isPending}
        submitLabel="Create agent"
        onCancel={onDone}
        onSubmit={(d) => {
          setErrors(undefined);
          create.mutate(d, { onSuccess: onDone, onError: (err) => setErrors(errorsFromApi(err)) });
        }}
      />
    </Section>
  );
}

function OpenAgent({
  org,
  id,
  manage,
  onClose,
  onDuplicate,
}: {
  org: string;
  id: string;
  manage: boolean;
  onClose: () => void;
  onDuplicate: (draft: AgentDraft) => void;
}) {
  const agent = useQuery({ queryKey: keys.agent(org, id), queryFn: () => api.agents.get(org, id) });
  const models = useQuery(modelsQuery(org));
  const servers = useQuery(mcpServersQuery(org));
  const update = useUpdateAgent(org);
  const [errors, setErrors] = useState<FormErrors>();
  if (agent.isPending) return <LoadingBlock label="Loading the agent" />;
  if (agent.isError)
    return <ErrorState message={describeError(agent.error)} onRetry={() => agent.refetch()} />;
  const a = agent.data;
  const readOnly = a.builtIn || a.archived || !manage;
  return (
    <div className="flex flex-col gap-8">
      <Section
        title={`${a.icon} ${a.name}`}
        description={
          <>
            Version {a.version}
            {/* The built-in's words ship with Kiln: it has no save date. */}
            {a.builtIn ? " · Kiln's built-in agent: read-only" : ` · saved ${when(a.updatedAt)}`}
            {a.archived && " · archived"}
            {!a.builtIn && !manage && " · your role can read it, not change it"}
          </>
        }
        action={
          manage &&
          a.builtIn && (
            <Button size="sm" variant="secondary" onClick={() => onDuplicate(draftOf(a, true))}>
              Duplicate
            </Button>
          )
        }
      >
        <AgentForm
          // A new version resets the form to what was saved.
          key={a.version}
          initial={draftOf(a)}
          readOnly={readOnly}
          models={models.data}
          servers={servers.data}
          errors={errors}
          pending={update.isPending}
          submitLabel={`Save as version ${a.version + 1}`}
          onCancel={onClose}
          onSubmit={(draft) => {
            setErrors(undefined);
            update.mutate({ id, draft }, { onError: (err) => setErrors(errorsFromApi(err)) });
          }}
        />
      </Section>
      <Section title="Versions" description="Newest first. Chats run the version they were set to.">
        <ol className="divide-y divide-line rounded-lg border border-line" aria-label="Versions">
          {a.versions.map((v) => (
            <li
              key={v.version}
              className="flex flex-wrap items-center gap-x-3 gap-y-0.5 px-3 py-2 text-[13px]"
            >
              <span className="w-10 font-medium text-neutral-100">v{v.version}</span>
              <span className="min-w-0 flex-1 truncate text-neutral-300">
                {v.icon} {v.name}
              </span>
              <span className="text-xs text-neutral-400">
                {v.tools.length} tool{v.tools.length === 1 ? "" : "s"}
              </span>
              {a.builtIn ? (
                <span className="text-xs text-neutral-500">ships with Kiln</span>
              ) : (
                <time dateTime={v.createdAt} className="text-xs text-neutral-500">
                  {when(v.createdAt)}
                </time>
              )}
            </li>
          ))}
        </ol>
      </Section>
    </div>
  );
}
