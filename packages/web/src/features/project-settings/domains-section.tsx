import type { Domain } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { Section } from "../settings/section.tsx";

/**
 * Custom domains (ADR 0026): a hostname of the org's own that serves the published app once a DNS TXT
 * record proves the org controls it. The record to create is shown with each pending domain.
 */
export function DomainsSection({
  org,
  project,
  canPublish,
}: {
  org: string;
  project: string;
  canPublish: boolean;
}) {
  const qc = useQueryClient();
  const domains = useQuery({
    queryKey: keys.domains(org, project),
    queryFn: () => api.domains.list(org, project),
  });
  const [hostname, setHostname] = useState("");
  const refresh = () => qc.invalidateQueries({ queryKey: keys.domains(org, project) });
  const add = useMutation({
    mutationFn: () => api.domains.add(org, project, { hostname }),
    onSuccess: () => setHostname(""),
    onSettled: refresh,
    meta: { errorToast: "Could not add the domain" },
  });
  const verify = useMutation({
    mutationFn: (d: Domain) => api.domains.verify(org, project, d.id),
    // Why it is not verified yet shows in its row.
    onSuccess: (d) => {
      if (d.status === "verified" && !d.lastError) toast.success(`${d.hostname} is verified`);
    },
    onSettled: refresh,
    meta: { errorToast: "Could not verify the domain" },
  });
  const remove = useMutation({
    mutationFn: (d: Domain) => api.domains.remove(org, project, d.id),
    onSuccess: () => toast.success("The domain no longer serves the app"),
    onSettled: refresh,
    meta: { errorToast: "Could not remove the domain" },
  });
  const confirmRemove = async (d: Domain) => {
    const ok = await confirmDialog({
      title: `Remove ${d.hostname}?`,
      description: "The app stops being served there at once.",
      confirmLabel: "Remove",
      danger: true,
    });
    if (ok) remove.mutate(d);
  };

  return (
    <Section
      title="Custom domains"
      description="Serve the published app at a domain of your own. Point the domain at this Kiln, then prove it is yours with a DNS TXT record."
    >
      {canPublish && (
        <form
          className="flex max-w-lg flex-wrap items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (hostname.trim()) add.mutate();
          }}
        >
          <div className="min-w-48 flex-1">
            <Field label="Domain">
              {(id) => (
                <Input
                  id={id}
                  value={hostname}
                  maxLength={253}
                  placeholder="shop.example.com"
                  autoCapitalize="off"
                  spellCheck={false}
                  onChange={(e) => setHostname(e.target.value)}
                />
              )}
            </Field>
          </div>
          <Button type="submit" variant="primary" className="h-9" loading={add.isPending}>
            Add domain
          </Button>
        </form>
      )}
      {domains.isError && <p className="text-xs text-red-400">{describeError(domains.error)}</p>}
      <ul aria-label="Custom domains" className="flex max-w-2xl flex-col divide-y divide-line text-xs">
        {domains.data?.map((d) => (
          <li key={d.id} className="flex flex-col gap-1.5 py-2" data-testid="custom-domain">
            <div className="flex flex-wrap items-center gap-2">
              <span className="min-w-0 flex-1 truncate font-mono text-neutral-100">{d.hostname}</span>
              <span
                className={
                  d.status === "verified"
                    ? "rounded bg-emerald-600/20 px-1.5 py-0.5 text-emerald-300"
                    : "rounded bg-amber-600/20 px-1.5 py-0.5 text-amber-300"
                }
              >
                {d.status === "verified" ? "Verified" : "Pending"}
              </span>
              {canPublish && (
                <Button
                  size="xs"
                  loading={verify.isPending && verify.variables?.id === d.id}
                  onClick={() => verify.mutate(d)}
                >
                  Verify
                </Button>
              )}
              {canPublish && (
                <Button size="xs" variant="ghost" onClick={() => void confirmRemove(d)}>
                  Remove
                </Button>
              )}
            </div>
            {d.status === "pending" && (
              <div className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 rounded-md border border-line bg-neutral-900/60 p-2">
                <span className="text-neutral-500">Type</span>
                <span className="font-mono text-neutral-200">TXT</span>
                <span className="text-neutral-500">Name</span>
                <span className="break-all font-mono text-neutral-200">{d.verification.name}</span>
                <span className="text-neutral-500">Value</span>
                <span className="break-all font-mono text-neutral-200">{d.verification.value}</span>
              </div>
            )}
            {d.lastError && <p className="text-amber-300">{d.lastError}</p>}
            {d.status === "verified" && (
              <a
                className="w-fit text-accent-400 hover:underline"
                href={addressOf(d.hostname)}
                target="_blank"
                rel="noopener noreferrer"
              >
                {addressOf(d.hostname)}
              </a>
            )}
          </li>
        ))}
        {domains.data?.length === 0 && <li className="py-1.5 text-neutral-500">No custom domains.</li>}
      </ul>
    </Section>
  );
}

/** The domain as this studio is reached: the same scheme and port (a TLS terminator in front serves both). */
function addressOf(hostname: string): string {
  const { protocol, port } = window.location;
  return `${protocol}//${hostname}${port ? `:${port}` : ""}`;
}
