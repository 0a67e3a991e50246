import { MutationCache, QueryCache, QueryClient, type QueryKey } from "@tanstack/react-query";
import { toast } from "../ui/toast.tsx";
import { ApiError, describeError, isApiError } from "./errors.ts";
import { keys } from "./keys.ts";

/**
 * What a mutation's failure toast says. A string is a prefix ("Could not delete" → "Could not delete: <why>");
 * a function gets the error and the mutation's variables and returns the message (null: no toast); false
 * means the component shows the error itself (a form's field errors). Without it the toast is the reason alone.
 */
export type ErrorToast = string | false | ((err: unknown, variables: never) => string | null);

declare module "@tanstack/react-query" {
  interface Register {
    mutationMeta: { errorToast?: ErrorToast };
  }
}

/** The one place a failed mutation becomes a toast. */
export function toastMutationError(
  err: unknown,
  variables: unknown,
  errorToast: ErrorToast | undefined,
): void {
  if (errorToast === false) return;
  const message =
    typeof errorToast === "function"
      ? errorToast(err, variables as never)
      : errorToast
        ? `${errorToast}: ${describeError(err)}`
        : describeError(err);
  if (message !== null) toast.error(message);
}

/**
 * A read of an org refused with `sso_required` (the org was bound to single sign-on while the page was open)
 * asks the org's gate again, so the org's layout swaps the page for the "sign in through …" screen. A change
 * names no org in its key: it asks the gates on screen (only those observed are fetched again).
 */
export function gateOnSsoRequired(client: QueryClient, err: unknown, queryKey: QueryKey | undefined): void {
  if (!isApiError(err, "sso_required")) return;
  const leaf = keys.orgAccess("")[2];
  if (!queryKey) {
    void client.invalidateQueries({
      queryKey: keys.org("").slice(0, 1),
      predicate: (q) => q.queryKey[2] === leaf,
      refetchType: "active",
    });
    return;
  }
  const [head, org, last] = queryKey;
  if (head !== keys.org("")[0] || typeof org !== "string" || last === leaf) return;
  void client.invalidateQueries({ queryKey: keys.orgAccess(org) });
}

export const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({
    onError: (err, query) => gateOnSsoRequired(queryClient, err, query.queryKey),
  }),
  mutationCache: new MutationCache({
    onError: (err, variables, _context, mutation) => {
      toastMutationError(err, variables, mutation.meta?.errorToast);
      gateOnSsoRequired(queryClient, err, undefined);
    },
  }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: true,
      // A 4xx will not get better by asking again; a dropped connection might.
      retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
    },
  },
});

/** Whether a change made with `mutateAsync` went through (its failure is already a toast): for callers that ask. */
export const succeeds = (change: Promise<unknown>): Promise<boolean> =>
  change.then(
    () => true,
    () => false,
  );
