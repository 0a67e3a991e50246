import type { ShareLink } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { Section } from "../settings/section.tsx";

const EXPIRIES = [
  { label: "Never expires", hours: undefined },
  { label: "1 day", hours: 24 },
  { label: "7 days", hours: 24 * 7 },
  { label: "30 days", hours: 24 * 30 },
] as const;

/**
 * Share links: a private preview opened for whoever holds the link, until it is revoked or expires. The
 * link is shown once, when made (Kiln keeps only its hash).
 */
export function ShareLinksSection({
  org,
  project,
  canPublish,
}: {
  org: string;
  project: string;
  canPublish: boolean;
}) {
  const qc = useQueryClient();
  const links = useQuery({
    queryKey: keys.shareLinks(org, project),
    queryFn: () => api.shareLinks.list(org, project),
  });
  const [label, setLabel] = useState("");
  const [expiry, setExpiry] = useState(0);
  const [made, setMade] = useState<string>();
  const refresh = () => qc.invalidateQueries({ queryKey: keys.shareLinks(org, project) });
  const create = useMutation({
    mutationFn: () =>
      api.shareLinks.create(org, project, {
        label,
        ...(EXPIRIES[expiry]!.hours ? { expiresInHours: EXPIRIES[expiry]!.hours } : {}),
      }),
    onSuccess: (res) => {
      setMade(res.url);
      setLabel("");
    },
    onSettled: refresh,
    meta: { errorToast: "Could not make a share link" },
  });
  const revoke = useMutation({
    mutationFn: (link: ShareLink) => api.shareLinks.revoke(org, project, link.id),
    onSuccess: () => toast.success("The link no longer works"),
    onSettled: refresh,
    meta: { errorToast: "Could not revoke the link" },
  });
  const confirmRevoke = async (link: ShareLink) => {
    const ok = await confirmDialog({
      title: `Revoke ${link.label ? `"${link.label}"` : "this link"}?`,
      description: "Whoever holds it can no longer open the preview.",
      confirmLabel: "Revoke",
      danger: true,
    });
    if (ok) revoke.mutate(link);
  };
  const open = links.data?.filter((l) => !l.revokedAt) ?? [];

  return (
    <Section
      title="Share links"
      description="Let someone outside the organization see the running app, without making the preview public."
    >
      {canPublish && (
        <form
          className="flex max-w-lg flex-wrap items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <div className="min-w-40 flex-1">
            <Field label="Label">
              {(id) => (
                <Input
                  id={id}
                  value={label}
                  maxLength={80}
                  placeholder="e.g. for Sam"
                  onChange={(e) => setLabel(e.target.value)}
                />
              )}
            </Field>
          </div>
          <Field label="Expires">
            {(id) => (
              <Select id={id} value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
                {EXPIRIES.map((x, i) => (
                  <option key={x.label} value={i}>
                    {x.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Button type="submit" variant="primary" className="h-9" loading={create.isPending}>
            Make link
          </Button>
        </form>
      )}
      {made && (
        <div className="mt-3 flex max-w-lg items-center gap-2 rounded-md border border-accent-600/40 bg-accent-600/10 p-2">
          <Input readOnly value={made} aria-label="New share link" onFocus={(e) => e.target.select()} />
          <Button
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
      {made && <p className="mt-1 text-xs text-neutral-500">Copy it now: it is not shown again.</p>}
      {links.isError && <p className="mt-2 text-xs text-red-400">{describeError(links.error)}</p>}
      <ul aria-label="Share links" className="mt-3 flex max-w-lg flex-col divide-y divide-line text-xs">
        {open.map((link) => (
          <li key={link.id} className="flex items-center gap-2 py-1.5">
            <span className="min-w-0 flex-1 truncate text-neutral-200">{link.label || "Unnamed link"}</span>
            <span className="text-neutral-500">
              {link.expiresAt ? `until ${new Date(link.expiresAt).toLocaleDateString()}` : "no expiry"}
              {link.lastUsedAt
                ? ` · used ${new Date(link.lastUsedAt).toLocaleDateString()}`
                : " · not used yet"}
            </span>
            {canPublish && (
              <Button size="xs" variant="ghost" onClick={() => void confirmRevoke(link)}>
                Revoke
              </Button>
            )}
          </li>
        ))}
        {links.data && open.length === 0 && <li className="py-1.5 text-neutral-500">No open share links.</li>}
      </ul>
    </Section>
  );
}
