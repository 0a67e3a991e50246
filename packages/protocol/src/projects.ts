import { z } from "zod";
import { Id, Name, Slug, Text, Timestamp } from "./common.ts";

export const Description = Text(2000);

export const CreateProjectBody = z.strictObject({
  name: Name,
  slug: Slug.optional().describe("Derived from the name when absent"),
  description: Description.optional(),
});
export type CreateProjectBody = z.infer<typeof CreateProjectBody>;

export const UpdateProjectBody = z
  .strictObject({ name: Name.optional(), slug: Slug.optional(), description: Description.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to update");
export type UpdateProjectBody = z.infer<typeof UpdateProjectBody>;

export const Project = z
  .object({
    id: Id,
    orgId: Id,
    slug: z.string(),
    name: z.string(),
    description: z.string(),
    createdBy: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "Project" });
export type Project = z.infer<typeof Project>;
