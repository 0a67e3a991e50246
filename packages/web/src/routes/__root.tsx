import type { QueryClient } from "@tanstack/react-query";
import { createRootRouteWithContext, Link, Outlet } from "@tanstack/react-router";
import { ShortcutsHost } from "../features/shell/shortcuts.tsx";
import { ConfirmHost } from "../ui/confirm.tsx";
import { Toaster } from "../ui/toast.tsx";

export interface RouterContext {
  queryClient: QueryClient;
}

export const Route = createRootRouteWithContext<RouterContext>()({
  component: Root,
  notFoundComponent: NotFound,
});

function Root() {
  return (
    <>
      <Outlet />
      <Toaster />
      <ConfirmHost />
      <ShortcutsHost />
    </>
  );
}

export function NotFound() {
  return (
    <main className="flex h-full flex-col items-center justify-center gap-2 px-6 text-center">
      <p className="font-mono text-xs text-neutral-600">404</p>
      <h1 className="text-base font-semibold text-neutral-100">Not found</h1>
      <p className="max-w-sm text-sm text-neutral-400">
        There is nothing here, or you do not have access to it.
      </p>
      <Link to="/" className="mt-3 text-sm text-accent-400 hover:underline">
        Go to your projects
      </Link>
    </main>
  );
}
