import { can } from "@kiln/protocol";
import { createFileRoute, notFound } from "@tanstack/react-router";
import { isApiError } from "../../../api/errors.ts";
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
      if (isApiError(err) && (err.status === 404 || err.status === 403)) throw notFound();
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
