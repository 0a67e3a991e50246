import { z } from "zod";
import { Id, Name, Slug, Text, Timestamp } from "./common.ts";
import { DEFAULT_TEMPLATE, TemplateName } from "./templates.ts";

export const Description = Text(2000);

export const CreateProjectBody = z.strictObject({
  name: Name,
  slug: Slug.optional().describe("Derived from the name when absent"),
  description: Description.optional(),
  template: TemplateName.default(DEFAULT_TEMPLATE).describe("Template to start from (GET /api/templates)"),
  startDevServer: z
    .boolean()
    .optional()
    .describe(
      "Start the dev server right away (the studio opens the preview next), instead of on first visit",
    ),
});
export type CreateProjectBody = z.infer<typeof CreateProjectBody>;

export const UpdateProjectBody = z
  .strictObject({
    name: Name.optional(),
    slug: Slug.optional(),
    description: Description.optional(),
    previewPublic: z.boolean().optional().describe("Open the preview to anyone with its URL"),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to update");
export type UpdateProjectBody = z.infer<typeof UpdateProjectBody>;

export const Project = z
  .object({
    id: Id,
    orgId: Id,
    slug: z.string(),
    name: z.string(),
    description: z.string(),
    template: z.string().describe("The template the project was created from"),
    previewPublic: z
      .boolean()
      .describe("Anyone with the preview URL may open it; otherwise org members only"),
    createdBy: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "Project" });
export type Project = z.infer<typeof Project>;
