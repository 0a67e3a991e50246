import { boolean, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Tables of the tenant layer. They carry no schema: queries run inside `tenantTx`, whose
 * `SET LOCAL search_path` points unqualified names at one org's schema. DDL: migrations/tenant.
 */
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const projects = pgTable("projects", {
  id: uuid("id").primaryKey(),
  slug: text("slug").notNull(),
  name: text("name").notNull(),
  description: text("description").notNull().default(""),
  template: text("template").notNull().default("react-vite"),
  previewPublic: boolean("preview_public").notNull().default(false),
  createdBy: uuid("created_by"),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});
