import { z } from "zod";
import { IdOrSlug } from "../common.ts";

/** `/api/orgs/:org`: an org by id or slug. */
export const OrgParams = z.strictObject({ org: IdOrSlug });
/** `/api/orgs/:org/projects/:project`. */
export const ProjectParams = OrgParams.extend({ project: IdOrSlug });
