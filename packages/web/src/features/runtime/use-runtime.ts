import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";

/** The dev server's state, asked for often while it is changing and now and then once it has settled. */
export function useRuntime(org: string, project: string) {
  return useQuery({
    queryKey: keys.runtime(org, project),
    queryFn: () => api.runtime.status(org, project),
    refetchInterval: (q) => {
      const state = q.state.data?.state;
      return state === "starting" ? 1000 : state === "running" ? 5000 : 2500;
    },
    staleTime: 500,
  });
}

/** Starts, stops or restarts the dev server; the answer is its new state. */
export function useRuntimeAction(org: string, project: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (action: "start" | "stop" | "restart") => api.runtime.act(org, project, action),
    onSuccess: (status) => queryClient.setQueryData(keys.runtime(org, project), status),
    meta: { errorToast: (err: unknown, action: string) => `Could not ${action}: ${describeError(err)}` },
  });
}
