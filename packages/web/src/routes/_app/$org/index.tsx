import { can } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { projectsQuery } from "../../../api/queries.ts";
import { ProjectList } from "../../../features/projects/project-list.tsx";
import { AppHeader } from "../../../features/shell/app-header.tsx";
import { PromptStart } from "../../../features/start/prompt-start.tsx";
import { useTitle } from "../../../ui/use-title.ts";

export const Route = createFileRoute("/_app/$org/")({
  loader: ({ context, params }) => {
    // Start fetching before the page renders; the list shows its own loading state meanwhile.
    void context.queryClient.prefetchQuery(projectsQuery(params.org));
  },
  component: Dashboard,
});

function Dashboard() {
  const { org } = Route.useParams();
  const { membership } = Route.useRouteContext();
  useTitle(`${membership.name} · Projects`);
  const projects = useQuery(projectsQuery(org));
  const canWrite = can(membership.role, "projects.write");
  return (
    <div className="flex min-h-full flex-col">
      <AppHeader org={org} />
      <main className="flex-1">
        {/* Describing the app is the way in; "New project" stays for choosing a template and name oneself. */}
        {canWrite && !projects.isPending && <PromptStart org={org} hero={projects.data?.length === 0} />}
        <ProjectList org={org} canWrite={canWrite} canDelete={can(membership.role, "projects.delete")} />
      </main>
    </div>
  );
}
