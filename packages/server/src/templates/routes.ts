import { ErrorEnvelope, Template } from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { TemplateService } from "./service.ts";

export function templateRoutes(app: FastifyInstance, deps: { templates: TemplateService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/api/templates",
    {
      schema: {
        tags: ["templates"],
        summary: "Templates a project can start from",
        response: { 200: z.array(Template), "4xx": ErrorEnvelope },
      },
    },
    async () => deps.templates.list(),
  );
}
