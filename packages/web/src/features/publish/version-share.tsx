import type { Deployment, ShareLink } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Input, Select } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";

const EXPIRIES = [
  { label: "7 days", hours: 24 * 7 },
  { label: "1 day", hours: 24 },
  { label: "30 days", hours: 24 * 30 },
  { label: "Never expires", hours: undefined },
] as const;

/**
 * "Share this version": a link that opens exactly this deployment (live or not) for whoever holds it, until
 * it is revoked or expires. The link is shown once, when made.
 */
export function VersionShare({
  org,
  project,
  deployment,
}: {
  org: string;
  project: string;
  deployment: Deployment;
}) {
  const qc = useQueryClient();
  const key = keys.deploymentShares(org, project, deployment.id);
  const links = useQuery({
    queryKey: key,
    queryFn: () => api.deploymentShares.list(org, project, deployment.id),
  });
  const [expiry, setExpiry] = useState(0);
  const [made, setMade] = useState<string>();
  const refresh = () => qc.invalidateQueries({ queryKey: key });
  const create = useMutation({
    mutationFn: () =>
      api.deploymentShares.create(org, project, deployment.id, {
        label: "",
        ...(EXPIRIES[expiry]!.hours ? { expiresInHours: EXPIRIES[expiry]!.hours } : {}),
      }),
    onSuccess: (res) => setMade(res.url),
    onSettled: refresh,
    meta: { errorToast: "Could not make a link" },
  });
  const revoke = useMutation({
    mutationFn: (link: ShareLink) => api.deploymentShares.revoke(org, project, deployment.id, link.id),
    onSuccess: () => toast.success("The link no longer works"),
    onSettled: refresh,
    meta: { errorToast: "Could not revoke the link" },
  });
  const open = links.data?.filter((l) => !l.revokedAt) ?? [];

  return (
    <fieldset
      aria-label={`Share deployment #${deployment.number}`}
      className="mt-2 flex flex-col gap-2 rounded-md border border-line bg-surface-2 p-2 text-xs"
    >
      <div className="flex flex-wrap items-center gap-2">
        <span className="text-neutral-400">A link to this version, for anyone holding it:</span>
        <Select
          aria-label="Link expires"
          value={expiry}
          onChange={(e) => setExpiry(Number(e.target.value))}
          className="h-7 w-auto text-xs"
        >
          {EXPIRIES.map((x, i) => (
            <option key={x.label} value={i}>
              {x.label}
            </option>
          ))}
        </Select>
        <Button size="xs" variant="primary" loading={create.isPending} onClick={() => create.mutate()}>
          Make link
        </Button>
      </div>
      {made && (
        <div className="flex items-center gap-2">
          <Input
            readOnly
            value={made}
            aria-label="New version link"
            className="h-7 text-xs"
            onFocus={(e) => e.target.select()}
          />
          <Button
            size="xs"
            onClick={() =>
              void navigator.clipboard.writeText(made).then(
                () => toast.success("Link copied"),
                () => toast.info("Select the link and copy it"),
              )
            }
          >
            Copy
          </Button>
        </div>
      )}
      {made && <p className="text-neutral-500">Copy it now: it is not shown again.</p>}
      {open.length > 0 && (
        <ul aria-label={`Links to deployment #${deployment.number}`} className="flex flex-col gap-1">
          {open.map((link) => (
            <li key={link.id} className="flex items-center gap-2">
              <span className="flex-1 text-neutral-400">
                Made {new Date(link.createdAt).toLocaleString()}
                {link.expiresAt ? `, until ${new Date(link.expiresAt).toLocaleDateString()}` : ", no expiry"}
                {link.lastUsedAt ? ", opened" : ", not opened yet"}
              </span>
              <Button size="xs" variant="ghost" onClick={() => revoke.mutate(link)}>
                Revoke
              </Button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
