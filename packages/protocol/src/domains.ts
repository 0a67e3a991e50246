import { z } from "zod";
import { Timestamp } from "./common.ts";

/**
 * A custom domain of a project (ADR 0026): a hostname an org admin connects to the project's published
 * app. Kiln serves it once a DNS TXT record at `_kiln-challenge.<hostname>` holds the domain's token.
 */
export const DomainId = z.uuid().describe("Custom domain id");

export const DomainStatus = z.enum(["pending", "verified"]);
export type DomainStatus = z.infer<typeof DomainStatus>;

/** The TXT record's name is `_kiln-challenge.` + the hostname. */
export const DOMAIN_CHALLENGE_LABEL = "_kiln-challenge";

/** A DNS name is at most 253 characters (RFC 1035 §2.3.4, without the final dot). */
export const HOSTNAME_MAX_LENGTH = 253;

export const Domain = z
  .object({
    id: DomainId,
    hostname: z.string(),
    status: DomainStatus,
    /** The record that proves the hostname's owner wants it served by this project. */
    verification: z.object({ type: z.literal("TXT"), name: z.string(), value: z.string() }),
    /** Why the last check did not verify it, in a sentence (null once verified or before any check). */
    lastError: z.string().nullable(),
    checkedAt: Timestamp.nullable(),
    verifiedAt: Timestamp.nullable(),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: "Domain" });
export type Domain = z.infer<typeof Domain>;

export const AddDomainBody = z
  .strictObject({
    /** A hostname such as `shop.example.com`; checked further by the server (public suffixes, reserved names). */
    hostname: z.string().trim().min(1).max(512),
  })
  .meta({ id: "AddDomainBody" });
export type AddDomainBody = z.infer<typeof AddDomainBody>;

/** `GET /api/domains/check?domain=`: a TLS terminator's question before it gets a certificate. */
export const DomainCheckQuery = z.strictObject({
  domain: z
    .string()
    .min(1)
    .max(HOSTNAME_MAX_LENGTH + 1),
});
export type DomainCheckQuery = z.infer<typeof DomainCheckQuery>;

export const DomainCheck = z
  .object({ domain: z.string(), verified: z.literal(true) })
  .meta({ id: "DomainCheck" });
export type DomainCheck = z.infer<typeof DomainCheck>;
