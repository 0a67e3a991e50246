import { Health, PublicConfig } from "../config.ts";
import { defineRoute } from "./define.ts";

const tags = ["ops"];

/** The instance itself: whether it is up, and what it tells anyone before they sign in. */
export const ops = {
  health: defineRoute({
    method: "GET",
    path: "/health",
    summary: "Liveness and database check",
    tags,
    auth: "none",
    response: Health,
  }),
  config: defineRoute({
    method: "GET",
    path: "/api/config",
    summary: "Public instance configuration",
    tags,
    auth: "none",
    response: PublicConfig,
  }),
};
