import { routes } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { urlOf } from "../../api/call.ts";
import { publicConfigQuery } from "../../api/queries.ts";

/** What a failed single sign-on (`?sso_error=`, from the callback) says on the log-in or account page. */
export const SSO_ERRORS: Record<string, string> = {
  expired: "That sign-in took too long or was started in another browser. Try again.",
  denied: "The sign-in was cancelled at the provider.",
  rejected: "The provider's answer could not be verified. Try again.",
  unverified_email: "The provider did not confirm your email address, so Kiln cannot use it.",
  signup_closed: "Sign-up is closed on this instance: ask an admin to invite you.",
  identity_taken: "That account at the provider is already linked to another Kiln account.",
  account_deleted: "That Kiln account was deleted.",
  unavailable: "The sign-in provider cannot be reached right now. Try again in a moment.",
};

/** "Continue with …" for each single sign-on provider the instance offers; full-page navigations. */
export function SsoButtons({ next }: { next?: string | undefined }) {
  const config = useQuery(publicConfigQuery);
  const providers = config.data?.signInProviders ?? [];
  if (providers.length === 0) return null;
  return (
    <div className="flex flex-col gap-2">
      {providers.map((p) => (
        <a
          key={p.id}
          href={urlOf(routes.auth.oidcStart, { params: { provider: p.id }, query: next ? { next } : {} })}
          className="flex h-9 items-center justify-center rounded-md border border-line bg-surface-3 text-sm font-medium text-neutral-100 hover:bg-neutral-700/60"
        >
          Continue with {p.name}
        </a>
      ))}
      <div className="my-1 flex items-center gap-3 text-xs text-neutral-500" aria-hidden>
        <span className="h-px flex-1 bg-line" />
        or
        <span className="h-px flex-1 bg-line" />
      </div>
    </div>
  );
}
