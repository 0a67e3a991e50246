import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { toast } from "../../ui/toast.tsx";
import { type AgentDraft, bodyOf } from "./tools.ts";

/** Agent changes (ADR 0035); each refreshes the org's list (the chat's picker reads it too). */

export function useCreateAgent(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (d: AgentDraft) => api.agents.create(org, bodyOf(d)),
    onSuccess: async (a) => {
      await qc.invalidateQueries({ queryKey: keys.agents(org) });
      toast.success(`Created “${a.name}”`);
    },
    // The form shows the reason by its fields.
    meta: { errorToast: false },
  });
}

export function useUpdateAgent(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, draft }: { id: string; draft: AgentDraft }) =>
      api.agents.update(org, id, bodyOf(draft)),
    onSuccess: async (a) => {
      await qc.invalidateQueries({ queryKey: keys.agents(org) });
      toast.success(`Saved “${a.name}” as version ${a.version}`);
    },
    meta: { errorToast: false },
  });
}

export function useArchiveAgent(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.agents.archive(org, id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.agents(org) });
      toast.success("Agent archived");
    },
  });
}
