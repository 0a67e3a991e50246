import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { meQuery } from "../../api/queries.ts";
import { toast } from "../../ui/toast.tsx";

/** Creates an org; the user's list of orgs has it before anything navigates there. The form shows a refusal. */
export function useCreateOrg() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.orgs.create>[0]) => api.orgs.create(body),
    onSuccess: async (org) => {
      await qc.fetchQuery({ ...meQuery, staleTime: 0 });
      toast.success(`Created ${org.name}`);
    },
    meta: { errorToast: false },
  });
}
