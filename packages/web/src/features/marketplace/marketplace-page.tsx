import type { Listing } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { EmptyState } from "../../ui/states.tsx";
import { useInstallListing } from "./mutations.ts";

/** Browse and search the templates the org sees (its own, approved instance-wide ones) and install one. */
export function MarketplacePage({ org, canInstall }: { org: string; canInstall: boolean }) {
  const [q, setQ] = useState("");
  const { data: listings } = useQuery({
    queryKey: [...keys.marketplace(org), q],
    queryFn: () => api.marketplace.list(org, q.trim() || undefined),
  });
  const [installing, setInstalling] = useState<Listing | undefined>();
  return (
    <div className="flex flex-col gap-4">
      <Input
        type="search"
        placeholder="Search templates"
        aria-label="Search templates"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        className="max-w-sm"
      />
      {listings && listings.length === 0 ? (
        <EmptyState
          title="No templates yet"
          description="Publish a project as a template from its settings; it shows up here."
        />
      ) : (
        <ul className="grid gap-3 sm:grid-cols-2" data-testid="marketplace-listings">
          {listings?.map((listing) => (
            <li
              key={listing.id}
              className="flex flex-col gap-2 rounded-lg border border-line bg-surface-1 p-4"
              data-testid="marketplace-listing"
            >
              <div className="flex items-start gap-2">
                <div className="flex-1">
                  <h2 className="text-sm font-medium text-neutral-100">{listing.name}</h2>
                  <p className="text-xs text-neutral-500">
                    by {listing.publisher.orgName} · v{listing.latestVersion} · {listing.template} ·{" "}
                    {listing.installs} {listing.installs === 1 ? "install" : "installs"}
                  </p>
                </div>
                {listing.status === "pending" && (
                  <span className="rounded bg-amber-500/15 px-1.5 py-0.5 text-[11px] text-amber-300">
                    awaiting approval
                  </span>
                )}
                {listing.visibility === "org" && listing.mine && (
                  <span className="rounded bg-tint/6 px-1.5 py-0.5 text-[11px] text-neutral-400">
                    this org only
                  </span>
                )}
              </div>
              {listing.description && <p className="text-xs text-neutral-300">{listing.description}</p>}
              {canInstall && (
                <div>
                  <Button variant="primary" onClick={() => setInstalling(listing)}>
                    Install
                  </Button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {installing && (
        <InstallDialog org={org} listing={installing} onClose={() => setInstalling(undefined)} />
      )}
    </div>
  );
}

function InstallDialog({ org, listing, onClose }: { org: string; listing: Listing; onClose: () => void }) {
  const [name, setName] = useState(listing.name);
  const install = useInstallListing(org);
  const navigate = useNavigate();
  const submit = () =>
    install.mutate(
      { listingId: listing.id, name },
      {
        onSuccess: (done) => {
          onClose();
          void navigate({ to: "/$org/$project", params: { org, project: done.project.slug } });
        },
      },
    );
  return (
    <Dialog
      open
      onClose={onClose}
      title={`Install “${listing.name}”`}
      description={`A new project of this org from version ${listing.latestVersion}.`}
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="primary" loading={install.isPending} disabled={!name.trim()} onClick={submit}>
            Install
          </Button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <Field label="Project name">
          {(id) => <Input id={id} autoFocus value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
      </form>
    </Dialog>
  );
}
