import type { Role } from "@kiln/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { meQuery } from "../../api/queries.ts";
import { toast } from "../../ui/toast.tsx";

/**
 * The settings' changes, each with what it refreshes. A failure is a toast (api/query-client.ts) saying the
 * reason, unless the dialog shows it itself.
 */

export function useRenameOrg(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.orgs.update(org, { name }),
    onSuccess: async () => {
      // The org's name is shown from the user's list of orgs.
      await qc.fetchQuery({ ...meQuery, staleTime: 0 });
      toast.success("Saved");
    },
  });
}

/** Deleting the org forgets everything cached: most of it was the org's. */
export function useDeleteOrg(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.orgs.remove(org),
    onSuccess: () => qc.clear(),
  });
}

export function useSetMemberRole(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: Role }) => api.orgs.setRole(org, userId, role),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.members(org) });
      toast.success("Role changed");
    },
  });
}

/** Removes a member, or the user themself (leaving: their list of orgs changes). */
export function useRemoveMember(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ userId }: { userId: string; self: boolean }) => api.orgs.removeMember(org, userId),
    onSuccess: async (_, { self }) => {
      if (self) await qc.fetchQuery({ ...meQuery, staleTime: 0 });
      else await qc.invalidateQueries({ queryKey: keys.members(org) });
    },
  });
}

export function useInvite(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.orgs.invite>[1]) => api.orgs.invite(org, body),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.invitations(org) }),
    meta: {
      errorToast: (err: unknown) =>
        isApiError(err, "already_member") ? "That person is already a member." : describeError(err),
    },
  });
}

export function useRevokeInvitation(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.orgs.revokeInvitation(org, id),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.invitations(org) }),
  });
}

export function useCreateWorkerToken(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.workers.createToken(org, { name }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.workerTokens(org) }),
  });
}

export function useRevokeWorkerToken(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.workers.revokeToken(org, id),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.workerTokens(org) }),
  });
}

/** Any change to the org's models refreshes everything under its `llm` key: lists, settings and prices. */
const refreshModels = (qc: ReturnType<typeof useQueryClient>, org: string) =>
  void qc.invalidateQueries({ queryKey: keys.llm(org) });

export function useSetDefaultModel(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (ref: string) => api.llm.updateSettings(org, { defaultModel: ref || null }),
    onSuccess: () => {
      refreshModels(qc, org);
      toast.success("Default model saved");
    },
  });
}

/** Adds a provider (no `providerId`) or changes one; the dialog shows a refusal itself. */
export function useSaveProvider(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (
      change:
        | { providerId: string; body: Parameters<typeof api.llm.updateProvider>[2] }
        | { providerId?: undefined; body: Parameters<typeof api.llm.createProvider>[1] },
    ) =>
      change.providerId !== undefined
        ? api.llm.updateProvider(org, change.providerId, change.body)
        : api.llm.createProvider(org, change.body),
    onSuccess: () => refreshModels(qc, org),
    meta: { errorToast: false },
  });
}

export function useRemoveProvider(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (providerId: string) => api.llm.removeProvider(org, providerId),
    onSuccess: () => refreshModels(qc, org),
  });
}

export function useSetPrice(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.llm.setPrice>[1]) => api.llm.setPrice(org, body),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.llmPrices(org) }),
  });
}

export function useRemovePrice(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (priceId: string) => api.llm.removePrice(org, priceId),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.llmPrices(org) }),
  });
}

/** The org's deploy targets: the settings list and every project's Publish dialog read them. */
function refreshDeployTargets(qc: ReturnType<typeof useQueryClient>, org: string) {
  return qc.invalidateQueries({ queryKey: keys.org(org) });
}

export function useAddDeployTarget(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.deployTargets.create>[1]) => api.deployTargets.create(org, body),
    onSuccess: async (target) => {
      await refreshDeployTargets(qc, org);
      toast.success(`Added ${target.name}`);
    },
    meta: { errorToast: false },
  });
}

export function useRemoveDeployTarget(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (target: string) => api.deployTargets.remove(org, target),
    onSuccess: () => refreshDeployTargets(qc, org),
    meta: { errorToast: "Could not remove the deploy target" },
  });
}

export function useConnectGitHost(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.gitHosts.create>[1]) => api.gitHosts.create(org, body),
    onSuccess: async (host) => {
      await qc.invalidateQueries({ queryKey: keys.gitHosts(org) });
      toast.success(`Connected ${host.name} as ${host.login}`);
    },
    meta: { errorToast: false },
  });
}

export function useRemoveGitHost(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (host: string) => api.gitHosts.remove(org, host),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.gitHosts(org) }),
    meta: { errorToast: "Could not remove the git host" },
  });
}
