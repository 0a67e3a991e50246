import { DOMAIN_CHALLENGE_LABEL, type OrgSso, SsoRole } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { publicConfigQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { Section } from "./section.tsx";

type Role = OrgSso["defaultRole"];
const ROLES = SsoRole.options;

/**
 * Org single sign-on (admins): the provider, the email domains (each proven by a DNS TXT record), the role
 * newcomers get, and which group claims map to which role.
 */
export function SsoPanel({ org }: { org: string }) {
  const sso = useQuery({ queryKey: keys.orgSso(org), queryFn: () => api.orgSso.get(org) });
  const config = useQuery(publicConfigQuery);
  if (sso.isPending || config.isPending) return <LoadingBlock label="Loading single sign-on" />;
  if (sso.isError) return <ErrorState message={describeError(sso.error)} onRetry={() => sso.refetch()} />;
  const providers = config.data?.signInProviders ?? [];
  if (providers.length === 0) {
    return (
      <Section title="Single sign-on">
        <p className="text-sm text-neutral-400">
          This instance has no sign-in provider. Its operator adds one with KILN_OIDC_PROVIDERS (see the
          README).
        </p>
      </Section>
    );
  }
  return (
    <div className="flex flex-col gap-8">
      <Section
        title="Single sign-on"
        description="People of your email domains who sign in through the provider join this organization with the role their groups give them, and lose access when the provider removes them."
      >
        <BindingForm key={sso.data?.updatedAt ?? "new"} org={org} current={sso.data} providers={providers} />
      </Section>
      {sso.data && <Domains org={org} sso={sso.data} />}
    </div>
  );
}

function BindingForm({
  org,
  current,
  providers,
}: {
  org: string;
  current: OrgSso | null;
  providers: Array<{ id: string; name: string }>;
}) {
  const qc = useQueryClient();
  const [provider, setProvider] = useState(current?.provider ?? providers[0]!.id);
  const [domains, setDomains] = useState(current?.domains.map((d) => d.domain).join(", ") ?? "");
  const [defaultRole, setDefaultRole] = useState<Role>(current?.defaultRole ?? "developer");
  const [groups, setGroups] = useState(
    Object.entries(current?.groupRoles ?? {})
      .map(([g, r]) => `${g}=${r}`)
      .join("\n"),
  );
  const save = useMutation({
    mutationFn: () =>
      api.orgSso.put(org, {
        provider,
        domains: domains
          .split(/[\s,]+/)
          .map((d) => d.trim())
          .filter(Boolean),
        defaultRole,
        groupRoles: Object.fromEntries(
          groups
            .split("\n")
            .map((line) => line.split("=").map((x) => x.trim()))
            .filter(
              (pair): pair is [string, Role] =>
                pair.length === 2 && !!pair[0] && ROLES.includes(pair[1] as Role),
            ),
        ),
      }),
    onSuccess: (data) => {
      qc.setQueryData(keys.orgSso(org), data);
      toast.success("Single sign-on saved");
    },
    meta: { errorToast: false },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const select = "h-9 rounded-md border border-line bg-surface-0 px-2 text-sm text-neutral-100";
  return (
    <form onSubmit={submit} className="flex max-w-xl flex-col gap-4" aria-label="Single sign-on">
      <Field label="Provider">
        {(id) => (
          <select id={id} className={select} value={provider} onChange={(e) => setProvider(e.target.value)}>
            {providers.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Email domains" hint="Comma-separated, e.g. acme.com, acme.co.uk">
        {(id) => <Input id={id} value={domains} onChange={(e) => setDomains(e.target.value)} required />}
      </Field>
      <Field label="Role for newcomers">
        {(id) => (
          <select
            id={id}
            className={select}
            value={defaultRole}
            onChange={(e) => setDefaultRole(e.target.value as Role)}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Groups to roles" hint="One per line: group=role (the highest matching role wins)">
        {(id) => (
          <textarea
            id={id}
            rows={3}
            className="rounded-md border border-line bg-surface-0 px-2 py-1.5 font-mono text-xs text-neutral-100"
            value={groups}
            onChange={(e) => setGroups(e.target.value)}
          />
        )}
      </Field>
      {save.isError && (
        <p role="alert" className="text-xs text-red-300">
          {isApiError(save.error, "hostname_invalid") ? save.error.message : describeError(save.error)}
        </p>
      )}
      <div>
        <Button type="submit" variant="primary" size="md" loading={save.isPending}>
          Save
        </Button>
      </div>
    </form>
  );
}

function Domains({ org, sso }: { org: string; sso: OrgSso }) {
  const qc = useQueryClient();
  const verify = useMutation({
    mutationFn: () => api.orgSso.verify(org),
    onSuccess: (data) => qc.setQueryData(keys.orgSso(org), data),
    meta: { errorToast: false },
  });
  return (
    <Section
      title="Prove your domains"
      description="Add each TXT record at your DNS host, then check. A domain counts only once it is proven."
    >
      <ul className="divide-y divide-line rounded-lg border border-line" aria-label="Single sign-on domains">
        {sso.domains.map((d) => (
          <li key={d.domain} className="flex flex-col gap-1 px-3 py-2 text-[13px]">
            <div className="flex items-center gap-2">
              <span className="flex-1 text-neutral-100">{d.domain}</span>
              <span className={d.verified ? "text-xs text-emerald-300" : "text-xs text-amber-300"}>
                {d.verified ? "proven" : "not proven yet"}
              </span>
            </div>
            {!d.verified && (
              <>
                <code className="overflow-x-auto rounded bg-surface-0 px-2 py-1 font-mono text-[11px] text-neutral-300">
                  {DOMAIN_CHALLENGE_LABEL}.{d.domain} TXT "{d.token}"
                </code>
                {d.lastError && <span className="text-xs text-neutral-500">{d.lastError}</span>}
              </>
            )}
          </li>
        ))}
      </ul>
      {verify.isError && (
        <p role="alert" className="mt-2 text-xs text-red-300">
          {describeError(verify.error)}
        </p>
      )}
      <div className="mt-3">
        <Button loading={verify.isPending} onClick={() => verify.mutate()}>
          Check DNS records
        </Button>
      </div>
    </Section>
  );
}
