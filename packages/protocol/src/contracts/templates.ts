import { z } from "zod";
import { Template } from "../templates.ts";
import { defineRoute } from "./define.ts";

export const templates = {
  list: defineRoute({
    method: "GET",
    path: "/api/templates",
    summary: "Templates a project can start from",
    tags: ["templates"],
    response: z.array(Template),
  }),
};
