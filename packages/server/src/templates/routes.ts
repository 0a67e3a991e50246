import { routes } from "@kiln/protocol";
import type { OrgRouter } from "../orgs/router.ts";
import type { TemplateService } from "./service.ts";

export function templateRoutes(router: OrgRouter, deps: { templates: TemplateService }): void {
  router.handle(routes.templates.list, () => deps.templates.listWithProgress());
}
