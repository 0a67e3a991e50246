import type { PublishTemplateBody } from "@kiln/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { toast } from "../../ui/toast.tsx";

/** Marketplace changes (ADR 0040); each refreshes the lists it changes. */

export function usePublishTemplate(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: PublishTemplateBody) => api.marketplace.publish(org, project, body),
    onSuccess: async (listing) => {
      await qc.invalidateQueries({ queryKey: keys.marketplace(org) });
      await qc.invalidateQueries({ queryKey: keys.projectMarketplace(org, project) });
      toast.success(`Published “${listing.name}” version ${listing.latestVersion}`);
    },
  });
}

export function useInstallListing(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ listingId, name }: { listingId: string; name: string }) =>
      api.marketplace.install(org, listingId, { name }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.org(org) });
    },
  });
}

export function useApproveListing() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (listingId: string) => api.marketplace.approve(listingId),
    onSuccess: async (listing) => {
      await qc.invalidateQueries({ queryKey: keys.adminMarketplace });
      toast.success(`“${listing.name}” is listed for every org`);
    },
  });
}
