import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { api } from "../../api/endpoints.ts";

/** Logs out; the page forgets everything it had cached and goes to the log-in form either way. */
export function useLogout(): () => Promise<void> {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const logout = useMutation({
    mutationFn: () => api.auth.logout(),
    meta: {
      errorToast: () => "The server did not confirm the log-out; your session cookies were cleared anyway.",
    },
  });
  return async () => {
    await logout.mutateAsync().catch(() => undefined);
    // Leave the signed-in pages before emptying the cache: emptied first, their still-mounted queries
    // (who is signed in, above all) asked again with the session gone — a 401 in the console after log-out.
    await queryClient.cancelQueries();
    await navigate({ to: "/login", replace: true });
    queryClient.clear();
  };
}
