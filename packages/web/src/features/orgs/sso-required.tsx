import { routes } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { Link, useRouterState } from "@tanstack/react-router";
import { urlOf } from "../../api/call.ts";
import { publicConfigQuery } from "../../api/queries.ts";
import { useTitle } from "../../ui/use-title.ts";
import { AuthLayout } from "../auth/auth-layout.tsx";
import { useLogout } from "../auth/use-logout.ts";
import { useMe } from "../auth/use-me.ts";
import { ssoReturnPath } from "./sso-return.ts";

/**
 * An org bound to single sign-on refused this session (`sso_required`, ADR 0031: the user's address is on a
 * domain the org proved, and they signed in with a password): the way in is its provider, and the user's
 * other orgs stay one click away.
 */
export function SsoRequired({ org, provider }: { org: string; provider: string }) {
  const me = useMe();
  const logout = useLogout();
  const href = useRouterState({ select: (s) => s.location.href });
  const config = useQuery(publicConfigQuery);
  const membership = me.orgs.find((o) => o.slug === org);
  const orgName = membership?.name ?? org;
  const offered = config.data?.signInProviders.find((p) => p.id === provider);
  const providerName = offered?.name ?? provider;
  const domain = me.user.email.split("@")[1];
  const others = me.orgs.filter((o) => o.slug !== org);
  useTitle(`${orgName} · Sign in through ${providerName}`);

  return (
    <AuthLayout
      title={`${orgName} signs in through ${providerName}`}
      subtitle={
        <>
          You signed in to Kiln with a password. {orgName} asks its members from{" "}
          <span className="text-neutral-200">{domain}</span> to sign in through {providerName} to open it.
        </>
      }
      footer={
        <button type="button" onClick={logout} className="text-neutral-400 hover:text-neutral-200">
          Log out of {me.user.email}
        </button>
      }
    >
      {offered ? (
        // A full-page navigation: the provider's page, then its callback, which returns here signed in.
        <a
          href={urlOf(routes.auth.oidcStart, {
            params: { provider },
            query: { next: ssoReturnPath(org, href) },
          })}
          className="flex h-9 items-center justify-center rounded-md bg-accent-600 px-3.5 text-sm font-medium text-white hover:bg-accent-500"
        >
          Sign in with {providerName}
        </a>
      ) : (
        !config.isPending && (
          <p role="alert" className="text-sm text-neutral-300">
            This Kiln instance no longer offers {providerName}. Ask an owner of {orgName} for help.
          </p>
        )
      )}
      {!me.user.emailVerified && (
        // The provider's sign-in opens this Kiln account only through a proven address (else a new one).
        <p className="mt-3 text-xs text-neutral-400">
          First{" "}
          <Link to="/verify-email" search={{ next: href }} className="text-accent-400 hover:underline">
            verify {me.user.email}
          </Link>
          , so that signing in through {providerName} opens this account.
        </p>
      )}
      {others.length > 0 && (
        <nav aria-label="Your other workspaces" className="mt-6 border-t border-line pt-4">
          <p className="mb-2 text-xs text-neutral-500">Or go to</p>
          <ul className="flex flex-col gap-1">
            {others.map((o) => (
              <li key={o.orgId}>
                <Link
                  to="/$org"
                  params={{ org: o.slug }}
                  className="flex items-center gap-2 rounded-md px-2 py-1.5 text-sm text-neutral-200 hover:bg-tint/6"
                >
                  <span className="flex size-5 shrink-0 items-center justify-center rounded bg-surface-3 text-[11px] font-semibold uppercase text-neutral-300">
                    {o.name.slice(0, 1)}
                  </span>
                  <span className="truncate">{o.personal ? `${o.name} (personal)` : o.name}</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
    </AuthLayout>
  );
}
