import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { meQuery } from "../../api/queries.ts";
import { toast } from "../../ui/toast.tsx";

/**
 * The account page's changes, each with what it refreshes. A failure is a toast (api/query-client.ts),
 * except where the form shows the reason next to the field (errorToast: false).
 */

export function useUpdateMe() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.auth.updateMe>[0]) => api.auth.updateMe(body),
    onSuccess: async () => {
      // The header's name and the verify banner read the signed-in user.
      await qc.fetchQuery({ ...meQuery, staleTime: 0 });
    },
    meta: { errorToast: false },
  });
}

export function useChangePassword() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.auth.changePassword>[0]) => api.auth.changePassword(body),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.sessions }),
    meta: { errorToast: false },
  });
}

export function useRevokeOtherSessions() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.auth.revokeOtherSessions(),
    onSuccess: ({ revoked }) => {
      toast.success(revoked === 1 ? "Signed out 1 other session" : `Signed out ${revoked} other sessions`);
      return qc.invalidateQueries({ queryKey: keys.sessions });
    },
  });
}

export function useRevokeSession() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.auth.revokeSession(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.sessions }),
  });
}

export function useCreateToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.auth.createToken>[0]) => api.auth.createToken(body),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.tokens }),
  });
}

export function useRevokeToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.auth.revokeToken(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.tokens }),
  });
}
