import { z } from "zod";
import { Timestamp } from "./common.ts";

/**
 * A share link: anyone holding it may view the project's live preview (private or not) until it is revoked
 * or expires. It shows the app, nothing of the studio; its holder can send the agent nothing.
 */
export const ShareLinkId = z.uuid().describe("Share link id");

export const ShareLink = z
  .object({
    id: ShareLinkId,
    label: z.string(),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
  })
  .meta({ id: "ShareLink" });
export type ShareLink = z.infer<typeof ShareLink>;

export const CreateShareLinkBody = z
  .strictObject({
    label: z.string().trim().max(80).default(""),
    /** Hours until it stops working; none: until revoked. */
    expiresInHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 365)
      .optional(),
  })
  .meta({ id: "CreateShareLinkBody" });
export type CreateShareLinkBody = z.infer<typeof CreateShareLinkBody>;

/** The link itself is shown once, when made; Kiln keeps only its hash. */
export const CreatedShareLink = z
  .object({ link: ShareLink, url: z.string() })
  .meta({ id: "CreatedShareLink" });
export type CreatedShareLink = z.infer<typeof CreatedShareLink>;
