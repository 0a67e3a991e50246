import { createFileRoute } from "@tanstack/react-router";
import { DeleteAccountSection } from "../../features/account/delete-account-section.tsx";
import { PasswordSection } from "../../features/account/password-section.tsx";
import { ProfileSection } from "../../features/account/profile-section.tsx";
import { SessionsSection } from "../../features/account/sessions-section.tsx";
import { SignInMethodsSection } from "../../features/account/sign-in-methods-section.tsx";
import { TokensPanel } from "../../features/account/tokens-panel.tsx";
import { homeOrg } from "../../features/auth/session.ts";
import { useMe } from "../../features/auth/use-me.ts";
import { NotificationPreferencesSection } from "../../features/notifications/preferences-section.tsx";
import { Section } from "../../features/settings/section.tsx";
import { AppHeader } from "../../features/shell/app-header.tsx";
import { useTitle } from "../../ui/use-title.ts";

/** The signed-in user's own things: profile, password, signed-in sessions, personal API tokens, deletion. */
export const Route = createFileRoute("/_app/account")({
  validateSearch: (search: Record<string, unknown>): { sso_error?: string; sso_linked?: boolean } => ({
    ...(typeof search.sso_error === "string" ? { sso_error: search.sso_error.slice(0, 40) } : {}),
    ...(search.sso_linked === 1 || search.sso_linked === "1" ? { sso_linked: true } : {}),
  }),
  component: Account,
});

function Account() {
  const me = useMe();
  const search = Route.useSearch();
  useTitle("Account");
  const org = homeOrg(me);
  return (
    <div className="flex min-h-full flex-col">
      {org && <AppHeader org={org} />}
      <main className="mx-auto flex w-full max-w-4xl flex-col gap-10 px-4 py-6 sm:px-6 sm:py-8">
        <div>
          <h1 className="mb-1 text-lg font-semibold text-neutral-50">Account</h1>
          <p className="text-xs text-neutral-500">Yours in every organization you belong to.</p>
        </div>
        <Section title="Profile">
          {/* Keyed by the saved values, so a save elsewhere (another tab) resets the form. */}
          <ProfileSection key={`${me.user.name}\n${me.user.email}`} user={me.user} />
        </Section>
        <Section title="Password">
          <PasswordSection />
        </Section>
        <Section
          title="Sign-in methods"
          description="Your password and the single sign-on accounts linked to Kiln."
        >
          <SignInMethodsSection ssoError={search.sso_error} linked={search.sso_linked === true} />
        </Section>
        <Section title="Notifications" description="What reaches your inbox in Kiln and your email.">
          <NotificationPreferencesSection />
        </Section>
        <Section title="Sessions" description="Browsers and devices signed in as you.">
          <SessionsSection />
        </Section>
        <Section title="Personal API tokens" description="For scripts, git over HTTPS and the API.">
          <div id="tokens">
            <TokensPanel />
          </div>
        </Section>
        <Section title="Delete account">
          <DeleteAccountSection />
        </Section>
      </main>
    </div>
  );
}
