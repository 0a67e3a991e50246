import { createFileRoute, notFound } from "@tanstack/react-router";
import { isApiError } from "../../../api/errors.ts";
import { ProjectSettings } from "../../../features/project-settings/project-settings.tsx";
import { projectQuery } from "../../../features/projects/queries.ts";
import { NotFound } from "../../__root.tsx";

/** `/<org>/<project>/settings`: beside the workspace, not inside it (nothing of the workspace runs here). */
export const Route = createFileRoute("/_app/$org/$project_/settings")({
  loader: async ({ context, params }) => {
    try {
      return await context.queryClient.ensureQueryData(projectQuery(params.org, params.project));
    } catch (err) {
      if (isApiError(err) && (err.status === 404 || (err.status === 403 && err.code !== "sso_required")))
        throw notFound();
      throw err;
    }
  },
  notFoundComponent: NotFound,
  component: Settings,
});

function Settings() {
  const { org, project } = Route.useParams();
  const { membership } = Route.useRouteContext();
  return <ProjectSettings org={org} project={project} role={membership.role} />;
}
