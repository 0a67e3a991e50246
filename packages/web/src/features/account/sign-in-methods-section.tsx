import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { publicConfigQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { SSO_ERRORS } from "../auth/sso-buttons.tsx";
import { relativeTime } from "../projects/time.ts";

/**
 * How the account signs in: its password, and the single sign-on providers linked to it. Linking goes
 * through the provider (a full-page trip); unlinking never removes the last way in (the server refuses).
 */
export function SignInMethodsSection({
  ssoError,
  linked,
}: {
  ssoError?: string | undefined;
  linked?: boolean;
}) {
  const qc = useQueryClient();
  const config = useQuery(publicConfigQuery);
  const methods = useQuery({ queryKey: keys.signInMethods, queryFn: api.auth.signInMethods });
  const link = useMutation({
    mutationFn: (provider: string) => api.auth.linkProvider(provider),
    onSuccess: ({ url }) => {
      window.location.assign(url);
    },
  });
  const unlink = useMutation({
    mutationFn: (provider: string) => api.auth.unlinkProvider(provider),
    onSuccess: (data) => {
      qc.setQueryData(keys.signInMethods, data);
      toast.success("Unlinked");
    },
    meta: { errorToast: false },
  });
  if (methods.isPending) return <LoadingBlock label="Loading sign-in methods" />;
  if (methods.isError)
    return <ErrorState message={describeError(methods.error)} onRetry={() => methods.refetch()} />;
  const providers = config.data?.signInProviders ?? [];
  const linkedIds = new Set(methods.data.identities.map((i) => i.provider));
  return (
    <div className="flex max-w-xl flex-col gap-3">
      {ssoError && (
        <p
          role="alert"
          className="rounded-md border border-red-500/30 bg-red-500/10 px-3 py-2 text-xs text-red-300"
        >
          {SSO_ERRORS[ssoError] ?? "Linking failed. Try again."}
        </p>
      )}
      {linked && (
        <p
          role="status"
          className="rounded-md border border-emerald-500/30 bg-emerald-500/10 px-3 py-2 text-xs text-emerald-200"
        >
          Linked: you can now sign in with it.
        </p>
      )}
      {unlink.isError && (
        <p role="alert" className="text-xs text-red-300">
          {isApiError(unlink.error, "last_sign_in_method")
            ? "This is your only way to sign in. Set a password (Forgot password? on the log-in page) or link another provider first."
            : describeError(unlink.error)}
        </p>
      )}
      <ul className="divide-y divide-line rounded-lg border border-line" aria-label="Sign-in methods">
        <li className="flex items-center gap-3 px-3 py-2 text-[13px]">
          <span className="flex-1 text-neutral-100">Password</span>
          <span className="text-xs text-neutral-400">{methods.data.password ? "set" : "not set"}</span>
        </li>
        {methods.data.identities.map((i) => (
          <li key={i.provider} className="flex flex-wrap items-center gap-3 px-3 py-2 text-[13px]">
            <span className="flex-1 text-neutral-100">{i.providerName}</span>
            <span className="text-xs text-neutral-400">{i.email}</span>
            <span className="text-xs text-neutral-500">
              {i.lastUsedAt ? `used ${relativeTime(i.lastUsedAt)}` : "never used"}
            </span>
            <Button
              size="xs"
              variant="ghost"
              loading={unlink.isPending}
              onClick={() => unlink.mutate(i.provider)}
            >
              Unlink
            </Button>
          </li>
        ))}
      </ul>
      {providers
        .filter((p) => !linkedIds.has(p.id))
        .map((p) => (
          <div key={p.id}>
            <Button loading={link.isPending && link.variables === p.id} onClick={() => link.mutate(p.id)}>
              Link {p.name}
            </Button>
          </div>
        ))}
    </div>
  );
}
