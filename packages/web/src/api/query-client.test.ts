import { MutationObserver } from "@tanstack/react-query";
import { afterEach, expect, it } from "vitest";
import { useToasts } from "../ui/toast.tsx";
import { ApiError } from "./errors.ts";
import { keys } from "./keys.ts";
import { queryClient } from "./query-client.ts";

afterEach(() => useToasts.setState({ toasts: [] }));

const shown = () => useToasts.getState().toasts.map((t) => `${t.kind}: ${t.message}`);

/** Runs a failing mutation through the studio's query client, with the `meta` given. */
async function fail(meta: Record<string, unknown> | undefined, variables: unknown = undefined) {
  const observer = new MutationObserver<unknown, Error, unknown>(queryClient, {
    mutationFn: () => Promise.reject(new ApiError(409, "slug_taken", "That name is taken")),
    ...(meta ? { meta } : {}),
  });
  await observer.mutate(variables).catch(() => undefined);
}

it("toasts a failed mutation's reason once, from the query client", async () => {
  await fail(undefined);
  expect(shown()).toEqual(["error: That name is taken"]);
});

it("puts a mutation's own words before the reason", async () => {
  await fail({ errorToast: "Could not create the project" });
  expect(shown()).toEqual(["error: Could not create the project: That name is taken"]);
});

it("lets a mutation word the toast from the error and its variables, or say nothing", async () => {
  await fail(
    { errorToast: (_err: unknown, task: { number: number }) => `Could not delete #${task.number}` },
    {
      number: 7,
    },
  );
  await fail({ errorToast: () => null });
  expect(shown()).toEqual(["error: Could not delete #7"]);
});

it("stays quiet for a form that shows the error beside its fields", async () => {
  await fail({ errorToast: false });
  expect(shown()).toEqual([]);
});

it("a read of an org refused with sso_required asks that org's gate again, and only that", async () => {
  const refused = new ApiError(403, "sso_required", "sign in through the provider", { provider: "corp" });
  const gate = (org: string) => queryClient.getQueryState(keys.orgAccess(org))?.isInvalidated;
  queryClient.setQueryData(keys.orgAccess("acme"), { slug: "acme" });
  queryClient.setQueryData(keys.orgAccess("globex"), { slug: "globex" });
  await queryClient
    .fetchQuery({ queryKey: keys.members("acme"), queryFn: () => Promise.reject(refused), retry: false })
    .catch(() => undefined);
  expect([gate("acme"), gate("globex")]).toEqual([true, false]);

  // Other refusals, and reads outside an org, leave the gates alone.
  queryClient.setQueryData(keys.orgAccess("acme"), { slug: "acme" });
  for (const [key, err] of [
    [keys.members("acme"), new ApiError(403, "forbidden", "no")],
    [keys.tokens, refused],
  ] as const) {
    await queryClient
      .fetchQuery({ queryKey: key, queryFn: () => Promise.reject(err), retry: false })
      .catch(() => undefined);
  }
  expect(gate("acme")).toBe(false);

  // A change refused that way names no org: every gate is asked again (those on screen are refetched).
  const observer = new MutationObserver<unknown, Error, unknown>(queryClient, {
    mutationFn: () => Promise.reject(refused),
  });
  await observer.mutate(undefined).catch(() => undefined);
  expect([gate("acme"), gate("globex")]).toEqual([true, true]);
  expect(shown()).toEqual(["error: sign in through the provider"]);
  queryClient.clear();
});
