import {
  AdminListQuery,
  AdminOrgList,
  AdminOverview,
  AdminUser,
  AdminUserList,
  AdminUserParams,
  SignupPolicy,
  UpdateSignupPolicyBody,
} from "../admin.ts";
import { defineRoute } from "./define.ts";

const tags = ["admin"];
const BASE = "/api/admin";

/** The instance administrator's routes (ADR 0034); anyone else gets 403 `not_instance_admin`. */
export const admin = {
  overview: defineRoute({
    method: "GET",
    path: `${BASE}/overview`,
    summary: "Counts for the whole instance and the worker fleet's health",
    tags,
    response: AdminOverview,
    errors: ["not_instance_admin"],
  }),
  users: defineRoute({
    method: "GET",
    path: `${BASE}/users`,
    summary: "Every account, newest first, searched by email or name",
    tags,
    query: AdminListQuery,
    response: AdminUserList,
    errors: ["not_instance_admin"],
  }),
  suspend: defineRoute({
    method: "POST",
    path: `${BASE}/users/:userId/suspend`,
    summary: "Suspend an account: it is signed out everywhere, its API tokens stop, and it cannot sign in",
    tags,
    params: AdminUserParams,
    response: AdminUser,
    errors: ["not_instance_admin", "user_not_found", "conflict"],
  }),
  unsuspend: defineRoute({
    method: "POST",
    path: `${BASE}/users/:userId/unsuspend`,
    summary: "Let a suspended account sign in again",
    tags,
    params: AdminUserParams,
    response: AdminUser,
    errors: ["not_instance_admin", "user_not_found"],
  }),
  orgs: defineRoute({
    method: "GET",
    path: `${BASE}/orgs`,
    summary: "Every org, newest first, searched by name or slug, with members and owners",
    tags,
    query: AdminListQuery,
    response: AdminOrgList,
    errors: ["not_instance_admin"],
  }),
  signupPolicy: defineRoute({
    method: "GET",
    path: `${BASE}/signup-policy`,
    summary: "Who may sign up",
    tags,
    response: SignupPolicy,
    errors: ["not_instance_admin"],
  }),
  updateSignupPolicy: defineRoute({
    method: "PUT",
    path: `${BASE}/signup-policy`,
    summary: "Change who may sign up (open, invited addresses only, some domains, or nobody)",
    tags,
    body: UpdateSignupPolicyBody,
    response: SignupPolicy,
    errors: ["not_instance_admin"],
  }),
};
