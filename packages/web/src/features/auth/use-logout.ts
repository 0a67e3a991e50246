import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { api } from "../../api/endpoints.ts";
import { toast } from "../../ui/toast.tsx";

export function useLogout(): () => Promise<void> {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return async () => {
    try {
      await api.auth.logout();
    } catch {
      toast.error("The server did not confirm the log-out; your session cookies were cleared anyway.");
    }
    queryClient.clear();
    await navigate({ to: "/login", replace: true });
  };
}
