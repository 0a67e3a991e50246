import { createRouter } from "@tanstack/react-router";
import { describeError } from "./api/errors.ts";
import { queryClient } from "./api/query-client.ts";
import { NotFound } from "./routes/__root.tsx";
import { routeTree } from "./routeTree.gen.ts";
import { LoadingBlock } from "./ui/spinner.tsx";
import { ErrorState } from "./ui/states.tsx";

export const router = createRouter({
  routeTree,
  context: { queryClient },
  defaultPreload: "intent",
  // Loaders hand data to React Query; the router itself need not cache it.
  defaultPreloadStaleTime: 0,
  defaultPendingMs: 300,
  defaultPendingComponent: () => <LoadingBlock className="h-full" />,
  defaultErrorComponent: ({ error, reset }) => (
    <ErrorState className="h-full" message={describeError(error)} onRetry={reset} />
  ),
  defaultNotFoundComponent: NotFound,
  scrollRestoration: true,
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
