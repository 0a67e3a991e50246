import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { EmptyState } from "../../ui/states.tsx";
import { useApproveListing } from "./mutations.ts";

/** The instance admin's queue: instance-wide templates no admin approved yet. */
export function PendingListingsPanel() {
  const { data: pending } = useQuery({ queryKey: keys.adminMarketplace, queryFn: api.marketplace.pending });
  const approve = useApproveListing();
  if (pending && pending.length === 0)
    return (
      <EmptyState title="Nothing to approve" description="Templates published for every org wait here." />
    );
  return (
    <ul className="flex flex-col divide-y divide-line rounded-md border border-line">
      {pending?.map((listing) => (
        <li key={listing.id} className="flex items-center gap-3 px-4 py-3" data-testid="pending-listing">
          <div className="flex-1">
            <p className="text-sm text-neutral-100">{listing.name}</p>
            <p className="text-xs text-neutral-500">
              by {listing.publisher.orgName} · v{listing.latestVersion} · {listing.description}
            </p>
          </div>
          <Button
            variant="primary"
            loading={approve.isPending && approve.variables === listing.id}
            onClick={() => approve.mutate(listing.id)}
          >
            Approve
          </Button>
        </li>
      ))}
    </ul>
  );
}
