import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { onUnauthenticated } from "./api/client.ts";
import { queryClient } from "./api/query-client.ts";
import { router } from "./router.tsx";
import { followTheme } from "./state/theme.ts";
import "./styles.css";
import "./focus.css";
import "./narrow.css";

followTheme();

// The session ended for good (refresh refused): drop everything cached and ask to log in again.
onUnauthenticated(() => {
  const here = router.state.location;
  if (here.pathname === "/login" || here.pathname === "/signup" || here.pathname.startsWith("/invite/"))
    return;
  queryClient.clear();
  void router.navigate({ to: "/login", search: { next: here.href }, replace: true });
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
