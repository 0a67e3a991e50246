import type { McpServer } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { errorsFromApi, type FormErrors } from "../../api/form-errors.ts";
import { keys } from "../../api/keys.ts";
import { mcpServersQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { Section } from "../settings/section.tsx";
import { EMPTY_MCP_DRAFT, type McpServerDraft, mcpBodyOf } from "./mcp-servers.ts";

/**
 * The org's MCP servers (ADR 0039): what agents may be given besides Kiln's tools, as mcp__<server>__<tool>.
 * Admins add and remove them; headers and environment values are write-only.
 */
export function McpServersSection({ org, manage }: { org: string; manage: boolean }) {
  const servers = useQuery(mcpServersQuery(org));
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const remove = useMutation({
    mutationFn: (id: string) => api.mcpServers.remove(org, id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.mcpServers(org) });
      toast.success("MCP server removed");
    },
  });
  const confirmRemove = async (s: McpServer) => {
    const ok = await confirmDialog({
      title: `Remove “${s.name}”?`,
      description: "Agents that name it stop getting its tools at their next turn.",
      confirmLabel: "Remove server",
      danger: true,
    });
    if (ok) remove.mutate(s.id);
  };
  return (
    <Section
      title="MCP servers"
      description="Extra tools for agents: a streamable HTTP URL Kiln calls, or a command run in the project's sandbox. Every call needs approval in Ask mode."
      action={
        manage &&
        !adding && (
          <Button size="sm" variant="secondary" onClick={() => setAdding(true)}>
            Add server
          </Button>
        )
      }
    >
      {adding && <AddServer org={org} onDone={() => setAdding(false)} />}
      {servers.isPending ? (
        <LoadingBlock label="Loading MCP servers" />
      ) : servers.isError ? (
        <ErrorState message={describeError(servers.error)} onRetry={() => servers.refetch()} />
      ) : servers.data.length === 0 ? (
        <p className="text-[13px] text-neutral-500">No MCP servers yet.</p>
      ) : (
        <ul className="divide-y divide-line rounded-lg border border-line" aria-label="MCP servers">
          {servers.data.map((s) => (
            <li key={s.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2.5 text-[13px]">
              <span className="font-mono font-medium text-neutral-100">{s.name}</span>
              <span className="rounded bg-surface-2 px-1.5 py-0.5 text-[11px] text-neutral-300">
                {s.transport}
              </span>
              <span className="min-w-0 flex-1 truncate font-mono text-xs text-neutral-400">
                {s.url ?? s.command?.join(" ")}
              </span>
              {s.secretNames.length > 0 && (
                <span className="text-xs text-neutral-500" title="Set, never shown">
                  {s.secretNames.join(", ")}
                </span>
              )}
              {manage && (
                <Button
                  size="xs"
                  variant="ghost"
                  aria-label={`Remove ${s.name}`}
                  loading={remove.isPending && remove.variables === s.id}
                  onClick={() => void confirmRemove(s)}
                >
                  Remove
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function AddServer({ org, onDone }: { org: string; onDone: () => void }) {
  const qc = useQueryClient();
  const [d, setD] = useState<McpServerDraft>(EMPTY_MCP_DRAFT);
  const [errors, setErrors] = useState<FormErrors>();
  const create = useMutation({
    mutationFn: () => api.mcpServers.create(org, mcpBodyOf(d)),
    onSuccess: async (s) => {
      await qc.invalidateQueries({ queryKey: keys.mcpServers(org) });
      toast.success(`Added “${s.name}”`);
      onDone();
    },
    onError: (err) => setErrors(errorsFromApi(err)),
    meta: { errorToast: false },
  });
  const set = <K extends keyof McpServerDraft>(key: K, value: McpServerDraft[K]) =>
    setD((s) => ({ ...s, [key]: value }));
  const err = (field: string) => errors?.fields[field];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setErrors(undefined);
    create.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Add MCP server" className="mb-4 grid gap-3 sm:grid-cols-2">
      <Field label="Name" error={err("name")} hint="Tools appear as mcp__<name>__<tool>">
        {(id) => <Input id={id} value={d.name} onChange={(e) => set("name", e.target.value)} required />}
      </Field>
      <Field label="Transport">
        {(id) => (
          <Select
            id={id}
            value={d.transport}
            onChange={(e) => set("transport", e.target.value === "stdio" ? "stdio" : "http")}
          >
            <option value="http">Streamable HTTP</option>
            <option value="stdio">Command in the project's sandbox</option>
          </Select>
        )}
      </Field>
      {d.transport === "http" ? (
        <Field label="URL" error={err("url")} hint="https://; held to the server's address policy">
          {(id) => <Input id={id} value={d.url} onChange={(e) => set("url", e.target.value)} required />}
        </Field>
      ) : (
        <Field label="Command" error={err("command")} hint="Runs in /workspace as the project's user">
          {(id) => (
            <Input id={id} value={d.command} onChange={(e) => set("command", e.target.value)} required />
          )}
        </Field>
      )}
      <Field
        label={d.transport === "http" ? "Headers" : "Environment"}
        error={err(d.transport === "http" ? "headers" : "env")}
        hint="One NAME=value a line; stored sealed, never shown again"
      >
        {(id) => (
          <textarea
            id={id}
            value={d.secrets}
            onChange={(e) => set("secrets", e.target.value)}
            rows={2}
            className="w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 font-mono text-xs text-neutral-100"
          />
        )}
      </Field>
      {errors?.form && (
        <p role="alert" className="text-xs text-red-400 sm:col-span-2">
          {errors.form}
        </p>
      )}
      <div className="flex gap-2 sm:col-span-2">
        <Button type="submit" size="sm" variant="primary" loading={create.isPending}>
          Add server
        </Button>
        <Button type="button" size="sm" variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
