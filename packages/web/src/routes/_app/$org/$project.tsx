import { can } from "@kiln/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, notFound } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { isApiError } from "../../../api/errors.ts";
import { keys } from "../../../api/keys.ts";
import { projectQuery } from "../../../features/projects/queries.ts";
import { Workspace } from "../../../features/workspace/workspace.tsx";
import { ProjectProvider } from "../../../state/project-context.tsx";
import { useTitle } from "../../../ui/use-title.ts";
import { NotFound } from "../../__root.tsx";

export interface WorkspaceSearch {
  /** The task board instead of the code workspace. */
  view?: "board";
}

export const Route = createFileRoute("/_app/$org/$project")({
  validateSearch: (search: Record<string, unknown>): WorkspaceSearch =>
    search.view === "board" ? { view: "board" } : {},
  loader: async ({ context, params }) => {
    try {
      return await context.queryClient.ensureQueryData(projectQuery(params.org, params.project));
    } catch (err) {
      // Someone else's project and a missing one look the same: not found, and nothing about it is shown.
      if (isApiError(err) && (err.status === 404 || (err.status === 403 && err.code !== "sso_required")))
        throw notFound();
      throw err;
    }
  },
  notFoundComponent: NotFound,
  component: ProjectWorkspace,
});

function ProjectWorkspace() {
  const details = Route.useLoaderData();
  const { org, project } = Route.useParams();
  const { membership } = Route.useRouteContext();
  const { view } = Route.useSearch();
  useTitle(details.name);
  const gone = useProjectGone(org, project);
  if (gone) return <ProjectGone org={org} name={details.name} />;
  return (
    <ProjectProvider
      value={{
        org,
        project,
        details,
        canWrite: can(membership.role, "projects.write"),
        role: membership.role,
      }}
    >
      <Workspace key={`${org}/${project}`} view={view === "board" ? "board" : "code"} />
    </ProjectProvider>
  );
}

/**
 * Whether the project was deleted while open (here or in another tab): any of its queries answered
 * `project_not_found`. Then its cached data goes, and the workspace (with everything that polls) unmounts.
 */
function useProjectGone(org: string, project: string): boolean {
  const queryClient = useQueryClient();
  const [gone, setGone] = useState(false);
  useEffect(() => {
    const prefix = keys.project(org, project);
    return queryClient.getQueryCache().subscribe((event) => {
      if (event.type !== "updated" || event.action.type !== "error") return;
      const key = event.query.queryKey;
      if (!prefix.every((part, i) => key[i] === part)) return;
      if (isApiError(event.action.error, "project_not_found")) setGone(true);
    });
  }, [queryClient, org, project]);
  useEffect(() => {
    if (!gone) return;
    const queryKey = keys.project(org, project);
    void queryClient.cancelQueries({ queryKey });
    queryClient.removeQueries({ queryKey });
    void queryClient.invalidateQueries({ queryKey: keys.projects(org), exact: true });
  }, [gone, queryClient, org, project]);
  return gone;
}

function ProjectGone({ org, name }: { org: string; name: string }) {
  return (
    <main className="flex h-full flex-col items-center justify-center gap-2 px-6 text-center">
      <h1 className="text-base font-semibold text-neutral-100">This project was deleted</h1>
      <p className="max-w-sm text-sm text-neutral-400">
        {name} no longer exists: someone deleted it, here or in another tab.
      </p>
      <Link to="/$org" params={{ org }} className="mt-3 text-sm text-accent-400 hover:underline">
        Back to projects
      </Link>
    </main>
  );
}
