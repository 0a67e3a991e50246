import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

/**
 * An org's external deploy target (ADR 0024): a hosting provider account Kiln publishes a project's static
 * build to, next to its own hosting. The provider token is sealed at rest and never leaves the server.
 */
export const DeployTargetKind = z.enum(["vercel", "netlify", "cloudflare-pages"]);
export type DeployTargetKind = z.infer<typeof DeployTargetKind>;

/** How the studio names each kind. */
export const DEPLOY_TARGET_LABELS: Record<DeployTargetKind, string> = {
  vercel: "Vercel",
  netlify: "Netlify",
  "cloudflare-pages": "Cloudflare Pages",
};

export const DeployTargetId = Id.describe("Deploy target id");

const TargetName = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .regex(/^[^\p{Cc}]+$/u, "no control characters")
  .describe("What the org calls it, e.g. “Vercel (marketing team)”");
const Token = z
  .string()
  .min(8)
  .max(1024)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
  .describe("The provider's API token; stored encrypted, never returned");
/** Vercel team ids (`team_…`) and Cloudflare account ids (32 hex) are short identifiers. */
const ProviderRef = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and -");

export const DeployTarget = z
  .object({
    id: DeployTargetId,
    kind: DeployTargetKind,
    name: z.string(),
    tokenHint: z.string().describe("Recognisable end of the token (`…abcd`); the token is never shown"),
    teamId: z
      .string()
      .nullable()
      .describe("Vercel: the team deployments go to (null: the token's own account)"),
    accountId: z.string().nullable().describe("Cloudflare: the account that owns the Pages projects"),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "DeployTarget" });
export type DeployTarget = z.infer<typeof DeployTarget>;

/** One shape per kind: a field another kind has (Netlify's `accountId`) is refused, not ignored. */
export const CreateDeployTargetBody = z
  .discriminatedUnion("kind", [
    z.strictObject({
      kind: z.literal("vercel"),
      name: TargetName,
      token: Token,
      teamId: ProviderRef.optional(),
    }),
    z.strictObject({ kind: z.literal("netlify"), name: TargetName, token: Token }),
    z.strictObject({
      kind: z.literal("cloudflare-pages"),
      name: TargetName,
      token: Token,
      accountId: ProviderRef.describe("The Cloudflare account id (32 hex digits in the dashboard's URL)"),
    }),
  ])
  .meta({ id: "CreateDeployTargetBody" });
export type CreateDeployTargetBody = z.infer<typeof CreateDeployTargetBody>;

export const UpdateDeployTargetBody = z
  .strictObject({
    name: TargetName.optional(),
    token: Token.optional(),
    teamId: ProviderRef.nullable().optional(),
    accountId: ProviderRef.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "nothing to update");
export type UpdateDeployTargetBody = z.infer<typeof UpdateDeployTargetBody>;

/** A target as one project sees it: whether merges to main deploy there, and the provider's name for it. */
export const ProjectDeployTarget = z
  .object({
    target: DeployTarget,
    autoDeploy: z.boolean().describe("A task merged into main (board review) deploys there"),
    providerProject: z
      .string()
      .nullable()
      .describe("The project or site on the provider, made by the first deployment"),
  })
  .meta({ id: "ProjectDeployTarget" });
export type ProjectDeployTarget = z.infer<typeof ProjectDeployTarget>;

export const UpdateProjectDeployTargetBody = z.strictObject({ autoDeploy: z.boolean() });
export type UpdateProjectDeployTargetBody = z.infer<typeof UpdateProjectDeployTargetBody>;
