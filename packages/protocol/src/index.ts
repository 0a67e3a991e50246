export * from "./auth.ts";
export * from "./common.ts";
export * from "./config.ts";
export * from "./errors.ts";
export * from "./orgs.ts";
export * from "./projects.ts";
