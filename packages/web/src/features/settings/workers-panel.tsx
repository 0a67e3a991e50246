import type { Role } from "@kiln/protocol";
import { can } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Input } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { relativeTime } from "../projects/time.ts";
import { useCreateWorkerToken, useRevokeWorkerToken } from "./mutations.ts";
import { Section } from "./section.tsx";
import { workerCommand } from "./worker-command.ts";

/**
 * Agent workers: the ones connected now (live), and for admins the tokens that let `kiln worker` processes on
 * other hosts take this org's jobs — created with the exact command to run, revoked in one click.
 */
export function WorkersPanel({ org, role }: { org: string; role: Role }) {
  const workers = useQuery({
    queryKey: keys.workers(org),
    queryFn: () => api.workers.list(org),
    refetchInterval: 5_000,
  });
  return (
    <div className="flex flex-col gap-8">
      <Section
        title="Connected workers"
        description="Processes taking this organization's board jobs right now. The studio's own worker serves every organization."
      >
        {workers.isPending ? (
          <LoadingBlock label="Loading workers" />
        ) : workers.isError ? (
          <ErrorState message={describeError(workers.error)} onRetry={() => workers.refetch()} />
        ) : workers.data.length === 0 ? (
          <EmptyState
            title="No worker is connected"
            description="Board jobs wait in the queue until one connects. Start one with a worker token below."
          />
        ) : (
          <ul className="divide-y divide-line rounded-lg border border-line" aria-label="Connected workers">
            {workers.data.map((w) => (
              <li key={w.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-[13px]">
                <span className="size-2 shrink-0 rounded-full bg-emerald-400" aria-hidden />
                <span className="min-w-40 flex-1 truncate text-neutral-100">{w.name}</span>
                {w.scope === "instance" && (
                  <span className="rounded bg-surface-2 px-1.5 py-0.5 text-[11px] text-neutral-400">
                    built in
                  </span>
                )}
                <span className="text-xs text-neutral-400">
                  {w.activeJobs} / {w.concurrency} busy
                </span>
                <span className="w-40 text-xs text-neutral-500">connected {relativeTime(w.connectedAt)}</span>
                <span className="font-mono text-[11px] text-neutral-600">v{w.version}</span>
              </li>
            ))}
          </ul>
        )}
      </Section>
      {can(role, "workers.manage") && <WorkerTokens org={org} />}
    </div>
  );
}

function WorkerTokens({ org }: { org: string }) {
  const tokens = useQuery({
    queryKey: keys.workerTokens(org),
    queryFn: () => api.workers.tokens(org),
    // "last used" moves when a worker connects with a token.
    refetchInterval: 10_000,
  });
  const [name, setName] = useState("");
  const createToken = useCreateWorkerToken(org);
  const revokeToken = useRevokeWorkerToken(org);
  const [created, setCreated] = useState<{ name: string; token: string }>();

  const create = (e: FormEvent) => {
    e.preventDefault();
    createToken.mutate(name.trim(), {
      onSuccess: (made) => {
        setCreated({ name: made.name, token: made.token });
        setName("");
      },
    });
  };

  const revoke = (id: string, tokenName: string) => {
    if (!window.confirm(`Revoke "${tokenName}"? Workers using it are disconnected at once.`)) return;
    revokeToken.mutate(id);
  };

  const command = created ? workerCommand(window.location.origin, created.token) : "";
  return (
    <Section
      title="Worker tokens"
      description="A token lets a kiln worker on another machine take this organization's jobs. Workers never hold model keys: their model calls go through this server."
    >
      <form onSubmit={create} className="mb-3 flex flex-wrap items-end gap-2">
        <Input
          aria-label="Worker token name"
          placeholder="build-box-1"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          maxLength={100}
          className="w-auto min-w-56 flex-1"
        />
        <Button
          type="submit"
          variant="primary"
          size="md"
          loading={createToken.isPending}
          disabled={!name.trim()}
        >
          Create worker token
        </Button>
      </form>
      {created && (
        <div
          className="mb-3 rounded-md border border-emerald-500/30 bg-emerald-500/10 p-3 text-xs"
          role="status"
        >
          <p className="text-emerald-200">
            Token "{created.name}" created. Copy the command now: the token is not shown again.
          </p>
          <div className="mt-2 flex gap-2">
            <code
              className="flex-1 overflow-x-auto whitespace-pre rounded bg-surface-0 px-2 py-1 font-mono text-[11px] text-neutral-200"
              data-testid="worker-command"
            >
              {command}
            </code>
            <Button
              size="xs"
              onClick={() =>
                void navigator.clipboard?.writeText(command).then(() => toast.success("Command copied"))
              }
            >
              Copy
            </Button>
          </div>
        </div>
      )}
      {tokens.isPending ? (
        <LoadingBlock label="Loading worker tokens" />
      ) : tokens.isError ? (
        <ErrorState message={describeError(tokens.error)} onRetry={() => tokens.refetch()} />
      ) : tokens.data.length === 0 ? (
        <EmptyState title="No worker tokens" description="Create one to add a worker on another machine." />
      ) : (
        <ul className="divide-y divide-line rounded-lg border border-line" aria-label="Worker tokens">
          {tokens.data.map((t) => (
            <li key={t.id} className="flex flex-wrap items-center gap-3 px-3 py-2 text-[13px]">
              <span className="min-w-40 flex-1 truncate text-neutral-100">{t.name}</span>
              <code className="font-mono text-[11px] text-neutral-500">{t.prefix}…</code>
              <span className="w-32 text-xs text-neutral-500">
                {t.lastUsedAt ? `used ${relativeTime(t.lastUsedAt)}` : "never used"}
              </span>
              <Button size="xs" variant="ghost" onClick={() => void revoke(t.id, t.name)}>
                Revoke
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
