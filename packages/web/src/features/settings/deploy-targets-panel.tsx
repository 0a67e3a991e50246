import type { DeployTarget, DeployTargetKind, Role } from "@kiln/protocol";
import { can, DEPLOY_TARGET_LABELS } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { useAddDeployTarget, useRemoveDeployTarget } from "./mutations.ts";
import { Section } from "./section.tsx";

const KIND_LABEL = DEPLOY_TARGET_LABELS;

/**
 * External hosts a project can be published to besides Kiln's own (ADR 0024). A token goes in once and is
 * never shown again (only its last characters); admins add and remove targets, everyone sees them.
 */
export function DeployTargetsPanel({ org, role }: { org: string; role: Role }) {
  const targets = useQuery({ queryKey: keys.deployTargets(org), queryFn: () => api.deployTargets.list(org) });
  const remove = useRemoveDeployTarget(org);
  const manage = can(role, "deployTargets.manage");
  return (
    <div className="flex flex-col gap-8">
      <Section
        title="Deploy targets"
        description="Hosting accounts this organization's projects can be published to, next to Kiln's own hosting. Static builds only."
      >
        {targets.isPending ? (
          <LoadingBlock label="Loading deploy targets" />
        ) : targets.isError ? (
          <ErrorState message={describeError(targets.error)} onRetry={() => targets.refetch()} />
        ) : targets.data.length === 0 ? (
          <EmptyState
            title="No deploy targets"
            description="Projects publish to Kiln's hosting. Add a Vercel, Netlify or Cloudflare Pages account to publish there too."
          />
        ) : (
          <ul className="divide-y divide-line rounded-lg border border-line" aria-label="Deploy targets">
            {targets.data.map((t) => (
              <li key={t.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-[13px]">
                <span className="min-w-40 flex-1 truncate text-neutral-100">{t.name}</span>
                <span className="rounded bg-surface-2 px-1.5 py-0.5 text-[11px] text-neutral-300">
                  {KIND_LABEL[t.kind]}
                </span>
                <span className="font-mono text-[11px] text-neutral-500" title="The end of the token">
                  token {t.tokenHint}
                </span>
                {detail(t) && <span className="text-xs text-neutral-500">{detail(t)}</span>}
                {manage && (
                  <Button
                    size="xs"
                    variant="ghost"
                    aria-label={`Remove ${t.name}`}
                    loading={remove.isPending && remove.variables === t.id}
                    onClick={() => {
                      if (window.confirm(`Remove "${t.name}" and its token? Its deployments stay listed.`))
                        remove.mutate(t.id);
                    }}
                  >
                    Remove
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>
      {manage && <AddTarget org={org} />}
    </div>
  );
}

function detail(t: DeployTarget): string | undefined {
  if (t.teamId) return `team ${t.teamId}`;
  if (t.accountId) return `account ${t.accountId}`;
  return undefined;
}

function AddTarget({ org }: { org: string }) {
  const [kind, setKind] = useState<DeployTargetKind>("vercel");
  const [name, setName] = useState("");
  const [token, setToken] = useState("");
  const [ref, setRef] = useState("");
  const add = useAddDeployTarget(org);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const base = { name: name.trim(), token: token.trim() };
    const body =
      kind === "vercel"
        ? { kind, ...base, ...(ref.trim() ? { teamId: ref.trim() } : {}) }
        : kind === "netlify"
          ? { kind, ...base }
          : { kind, ...base, accountId: ref.trim() };
    add.mutate(body, {
      onSuccess: () => {
        setName("");
        setToken("");
        setRef("");
      },
    });
  };
  return (
    <Section title="Add a deploy target" description="The token is stored encrypted and never shown again.">
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2" aria-label="Add a deploy target">
        <Field label="Provider">
          {(id) => (
            <Select id={id} value={kind} onChange={(e) => setKind(e.target.value as DeployTargetKind)}>
              {Object.entries(KIND_LABEL).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Name">
          {(id) => (
            <Input
              id={id}
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder={`${KIND_LABEL[kind]} (team)`}
              required
              maxLength={60}
            />
          )}
        </Field>
        <Field label="API token" hint="Write-only: Kiln never shows it back.">
          {(id) => (
            <Input
              id={id}
              type="password"
              autoComplete="off"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              required
              minLength={8}
              maxLength={1024}
            />
          )}
        </Field>
        {kind !== "netlify" && (
          <Field
            label={kind === "vercel" ? "Team id (optional)" : "Account id"}
            hint={kind === "vercel" ? "Empty: the token's own account." : "Shown in the dashboard's URL."}
          >
            {(id) => (
              <Input
                id={id}
                value={ref}
                onChange={(e) => setRef(e.target.value)}
                required={kind === "cloudflare-pages"}
                maxLength={100}
              />
            )}
          </Field>
        )}
        {add.isError && (
          <p role="alert" className="text-xs text-red-400 sm:col-span-2">
            {describeError(add.error)}
          </p>
        )}
        <div className="sm:col-span-2">
          <Button
            type="submit"
            variant="primary"
            size="md"
            loading={add.isPending}
            disabled={!name.trim() || token.trim().length < 8}
          >
            Add deploy target
          </Button>
        </div>
      </form>
    </Section>
  );
}
