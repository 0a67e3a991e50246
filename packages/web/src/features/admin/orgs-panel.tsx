import type { AdminOrg } from "@kiln/protocol";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Input } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { relativeTime } from "../projects/time.ts";
import { OrgDetailDialog } from "./org-detail.tsx";
import { PAGE, Pager } from "./pager.tsx";
import { Badge } from "./users-panel.tsx";

/** Every org on the instance, with its members and owners; one in detail in a dialog. */
export function OrgsPanel() {
  const [q, setQ] = useState("");
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<AdminOrg | null>(null);
  const orgs = useQuery({
    queryKey: keys.adminOrgs(q, offset),
    queryFn: () => api.admin.orgs({ ...(q ? { q } : {}), offset, limit: PAGE }),
    placeholderData: keepPreviousData,
  });
  return (
    <div className="flex flex-col gap-3">
      <Input
        type="search"
        aria-label="Search orgs"
        placeholder="Search by name or URL name"
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setOffset(0);
        }}
        className="max-w-sm text-xs"
      />
      {orgs.isPending ? (
        <LoadingBlock label="Loading orgs" />
      ) : orgs.isError ? (
        <ErrorState message={describeError(orgs.error)} onRetry={() => orgs.refetch()} />
      ) : orgs.data.orgs.length === 0 ? (
        <EmptyState title="No orgs match" description="Try part of a name." />
      ) : (
        <>
          <ul aria-label="Orgs" className="flex flex-col divide-y divide-line rounded-md border border-line">
            {orgs.data.orgs.map((o) => (
              <li
                key={o.id}
                data-org={o.slug}
                className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-xs"
              >
                <div className="min-w-0 flex-1">
                  <p className="truncate font-medium text-neutral-100">
                    {o.name} <span className="font-normal text-neutral-500">/{o.slug}</span>
                  </p>
                  <p className="truncate text-neutral-500">
                    {o.members === 1 ? "1 member" : `${o.members} members`} · owned by{" "}
                    {o.owners.join(", ") || "nobody"} · made {relativeTime(o.createdAt)}
                  </p>
                </div>
                {o.personal && <Badge>Personal</Badge>}
                <Button size="xs" onClick={() => setOpen(o)} aria-label={`Details of ${o.name}`}>
                  Details
                </Button>
              </li>
            ))}
          </ul>
          <Pager offset={offset} total={orgs.data.total} onChange={setOffset} />
        </>
      )}
      <OrgDetailDialog org={open} onClose={() => setOpen(null)} />
    </div>
  );
}
