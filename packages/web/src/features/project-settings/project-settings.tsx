import { can, type Role } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ChevronRight } from "../../ui/icons.tsx";
import { useTitle } from "../../ui/use-title.ts";
import { PublishTemplateSection } from "../marketplace/publish-section.tsx";
import { projectQuery } from "../projects/queries.ts";
import { AppHeader } from "../shell/app-header.tsx";
import { DangerSection } from "./danger-section.tsx";
import { DomainsSection } from "./domains-section.tsx";
import { EnvSection } from "./env-section.tsx";
import { ExportSection } from "./export-section.tsx";
import { GeneralSection } from "./general-section.tsx";
import { GitSection } from "./git-section.tsx";
import { PreviewSection } from "./preview-section.tsx";
import { RemoteSection } from "./remote-section.tsx";
import { ShareLinksSection } from "./share-links-section.tsx";

/** One page for everything about a project that is not its code: names, preview access, env, git, deletion. */
export function ProjectSettings({ org, project, role }: { org: string; project: string; role: Role }) {
  const { data: details } = useQuery(projectQuery(org, project));
  useTitle(details ? `${details.name} · Settings` : "Settings");
  if (!details) return null;
  const canWrite = can(role, "projects.write");

  return (
    <div className="flex min-h-full flex-col">
      <AppHeader org={org} />
      <main className="mx-auto flex w-full max-w-4xl flex-col gap-10 px-4 py-6 sm:px-6 sm:py-8">
        <div>
          <nav aria-label="Breadcrumb" className="mb-1 flex items-center gap-1 text-xs text-neutral-500">
            <Link
              to="/$org/$project"
              params={{ org, project: details.slug }}
              className="hover:text-neutral-200"
              data-testid="back-to-workspace"
            >
              {details.name}
            </Link>
            <ChevronRight className="size-3" />
            <span>Settings</span>
          </nav>
          <h1 className="text-lg font-semibold text-neutral-50">Project settings</h1>
        </div>
        {/* Keyed by slug: a renamed project's form starts from what was saved. */}
        <GeneralSection key={details.slug} org={org} project={details} canWrite={canWrite} />
        <PreviewSection org={org} project={details} canPublish={can(role, "projects.publish")} />
        <ShareLinksSection org={org} project={details.slug} canPublish={can(role, "projects.publish")} />
        <DomainsSection org={org} project={details.slug} canPublish={can(role, "projects.publish")} />
        <EnvSection org={org} project={details.slug} canWrite={canWrite} />
        <GitSection org={org} project={details.slug} canWrite={canWrite} />
        <RemoteSection org={org} project={details.slug} canWrite={canWrite} />
        {canWrite && <ExportSection org={org} project={details.slug} />}
        <PublishTemplateSection
          key={`marketplace-${details.slug}`}
          org={org}
          project={details.slug}
          projectName={details.name}
          canPublish={can(role, "projects.publish")}
        />
        {can(role, "projects.delete") && <DangerSection org={org} project={details} />}
      </main>
    </div>
  );
}
