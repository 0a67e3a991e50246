import { can } from "@kiln/protocol";
import { createFileRoute } from "@tanstack/react-router";
import { AgentsPanel } from "../../../features/agents/agents-panel.tsx";
import { AuditPanel } from "../../../features/audit/audit-panel.tsx";
import { DeployTargetsPanel } from "../../../features/settings/deploy-targets-panel.tsx";
import { GeneralPanel } from "../../../features/settings/general-panel.tsx";
import { GitHostsPanel } from "../../../features/settings/git-hosts-panel.tsx";
import { InvitationsPanel } from "../../../features/settings/invitations-panel.tsx";
import { MembersPanel } from "../../../features/settings/members-panel.tsx";
import { ModelsPanel } from "../../../features/settings/models-panel.tsx";
import { SsoPanel } from "../../../features/settings/sso-panel.tsx";
import { WebhooksPanel } from "../../../features/settings/webhooks-panel.tsx";
import { WorkersPanel } from "../../../features/settings/workers-panel.tsx";
import { AppHeader } from "../../../features/shell/app-header.tsx";
import { Tabs } from "../../../ui/tabs.tsx";
import { useTitle } from "../../../ui/use-title.ts";

type Section =
  | "general"
  | "members"
  | "invitations"
  | "models"
  | "agents"
  | "workers"
  | "deploy"
  | "git"
  | "webhooks"
  | "sso"
  | "audit";
const SECTIONS: Section[] = [
  "general",
  "members",
  "invitations",
  "models",
  "agents",
  "workers",
  "deploy",
  "git",
  "webhooks",
  "sso",
  "audit",
];

export const Route = createFileRoute("/_app/$org/settings")({
  validateSearch: (search: Record<string, unknown>): { tab?: Section } =>
    SECTIONS.includes(search.tab as Section) ? { tab: search.tab as Section } : {},
  component: Settings,
});

function Settings() {
  const { org } = Route.useParams();
  const { tab = "general" } = Route.useSearch();
  const { membership } = Route.useRouteContext();
  const navigate = Route.useNavigate();
  useTitle(`${membership.name} · Settings`);

  const tabs = [
    { id: "general" as const, label: "General" },
    { id: "members" as const, label: "Members" },
    ...(can(membership.role, "invitations.manage")
      ? [{ id: "invitations" as const, label: "Invitations" }]
      : []),
    { id: "models" as const, label: "Models" },
    { id: "agents" as const, label: "Agents" },
    { id: "workers" as const, label: "Workers" },
    ...(can(membership.role, "webhooks.manage") ? [{ id: "webhooks" as const, label: "Webhooks" }] : []),
    ...(can(membership.role, "org.update") && !membership.personal
      ? [{ id: "sso" as const, label: "Single sign-on" }]
      : []),
    { id: "deploy" as const, label: "Deploy targets" },
    { id: "git" as const, label: "Git hosts" },
    ...(can(membership.role, "audit.read") ? [{ id: "audit" as const, label: "Audit log" }] : []),
  ];

  return (
    <div className="flex min-h-full flex-col">
      <AppHeader org={org} />
      <main className="mx-auto w-full max-w-4xl px-4 py-6 sm:px-6 sm:py-8">
        <h1 className="mb-1 text-lg font-semibold text-neutral-50">Settings</h1>
        <p className="mb-5 text-xs text-neutral-500">
          {membership.name} · you are{" "}
          {membership.role === "admin" || membership.role === "owner" ? "an" : "a"} {membership.role}
        </p>
        <Tabs
          label="Settings sections"
          tabs={tabs}
          active={tab}
          onChange={(t) => void navigate({ search: { tab: t }, replace: true })}
          className="mb-6 overflow-x-auto rounded-t-md border border-line"
        />
        {tab === "general" && (
          <GeneralPanel
            org={org}
            name={membership.name}
            role={membership.role}
            personal={membership.personal}
          />
        )}
        {tab === "members" && (
          <MembersPanel org={org} role={membership.role} personal={membership.personal} />
        )}
        {tab === "invitations" && <InvitationsPanel org={org} />}
        {tab === "models" && <ModelsPanel org={org} role={membership.role} />}
        {tab === "agents" && <AgentsPanel org={org} role={membership.role} />}
        {tab === "workers" && <WorkersPanel org={org} role={membership.role} />}
        {tab === "webhooks" && <WebhooksPanel org={org} />}
        {tab === "sso" && <SsoPanel org={org} />}
        {tab === "deploy" && <DeployTargetsPanel org={org} role={membership.role} />}
        {tab === "git" && <GitHostsPanel org={org} role={membership.role} />}
        {tab === "audit" && <AuditPanel org={org} />}
      </main>
    </div>
  );
}
