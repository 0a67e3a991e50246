import { z } from "zod";
import { Id, Name, Timestamp } from "./common.ts";
import { Role } from "./orgs.ts";

export const Email = z
  .email()
  .max(254)
  .transform((e) => e.trim().toLowerCase());

/** 8..256: long enough to matter, short enough that hashing cannot be used to burn CPU. */
export const Password = z.string().min(8, "at least 8 characters").max(256);

export const SignupBody = z.strictObject({
  email: Email,
  password: Password,
  name: Name.optional(),
});
export type SignupBody = z.infer<typeof SignupBody>;

export const LoginBody = z.strictObject({
  email: Email,
  password: z.string().min(1).max(256),
});
export type LoginBody = z.infer<typeof LoginBody>;

export const User = z
  .object({
    id: Id,
    email: z.string(),
    name: z.string(),
    emailVerified: z
      .boolean()
      .describe(
        "The address was proven by a code or link sent to it; only then can invitations to it be accepted",
      ),
    createdAt: Timestamp,
  })
  .meta({ id: "User" });
export type User = z.infer<typeof User>;

/** The six-digit code from the verification email, for the signed-in user. */
export const VerifyEmailCodeBody = z.strictObject({
  code: z
    .string()
    .trim()
    .regex(/^\d{6}$/, "six digits"),
});
export type VerifyEmailCodeBody = z.infer<typeof VerifyEmailCodeBody>;

/** The secret from the verification link; works without a session (another browser, another device). */
export const VerifyEmailLinkBody = z.strictObject({
  token: z.string().min(10).max(100),
});
export type VerifyEmailLinkBody = z.infer<typeof VerifyEmailLinkBody>;

export const RequestPasswordResetBody = z.strictObject({ email: Email });
export type RequestPasswordResetBody = z.infer<typeof RequestPasswordResetBody>;

export const PasswordResetRequested = z
  .object({
    email: z.string(),
    expiresInMinutes: z.number().int().describe("How long a mailed link stays valid"),
  })
  .describe("Said the same whether or not a verified account uses the address")
  .meta({ id: "PasswordResetRequested" });
export type PasswordResetRequested = z.infer<typeof PasswordResetRequested>;

export const ResetPasswordBody = z.strictObject({
  token: z.string().min(10).max(100),
  password: Password,
});
export type ResetPasswordBody = z.infer<typeof ResetPasswordBody>;

export const EmailVerified = z
  .object({ email: z.string(), emailVerified: z.literal(true) })
  .meta({ id: "EmailVerified" });
export type EmailVerified = z.infer<typeof EmailVerified>;

export const VerificationSent = z
  .object({
    email: z.string(),
    emailSent: z.boolean().describe("false when the mail server could not be reached; try again later"),
    codeExpiresAt: Timestamp,
  })
  .meta({ id: "VerificationSent" });
export type VerificationSent = z.infer<typeof VerificationSent>;

export const MembershipSummary = z.object({
  orgId: Id,
  slug: z.string(),
  name: z.string(),
  role: Role,
  personal: z.boolean(),
});

export const Me = z
  .object({
    user: User,
    orgs: z.array(MembershipSummary),
    auth: z.enum(["cookie", "bearer", "api_token"]),
    instanceAdmin: z.boolean().describe("This person administers the whole instance (the /admin pages)"),
  })
  .meta({ id: "Me" });
export type Me = z.infer<typeof Me>;

/** Returned by sign-up, log-in and refresh. Tokens also travel in HTTP-only cookies. */
export const Session = z
  .object({
    user: User,
    accessToken: z.string().describe("Short-lived JWT; also set as an HTTP-only cookie"),
    accessTokenExpiresAt: Timestamp,
    csrfToken: z.string().describe("Send back as the x-csrf-token header on unsafe requests"),
  })
  .meta({ id: "Session" });
export type Session = z.infer<typeof Session>;

export const CreateApiTokenBody = z.strictObject({
  name: Name,
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export const ApiToken = z
  .object({
    id: Id,
    name: z.string(),
    prefix: z.string().describe("First characters of the token, to recognise it"),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
    expiresAt: Timestamp.nullable(),
  })
  .meta({ id: "ApiToken" });
export type ApiToken = z.infer<typeof ApiToken>;

export const CreatedApiToken = ApiToken.extend({
  token: z.string().describe("The secret; shown once and never again"),
});

/**
 * Changes the signed-in user's name and/or email address. A new address needs the current password, is
 * unverified until the mailed code or link proves it, and is refused when another account has verified it.
 */
export const UpdateMeBody = z
  .strictObject({
    name: Name.optional(),
    email: Email.optional(),
    currentPassword: z.string().min(1).max(256).optional(),
  })
  .refine((b) => b.name !== undefined || b.email !== undefined, "name or email is required");
export type UpdateMeBody = z.infer<typeof UpdateMeBody>;

/** The new password follows the sign-up rules; every other session of the user is signed out. */
export const ChangePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(256),
  newPassword: Password,
});
export type ChangePasswordBody = z.infer<typeof ChangePasswordBody>;

export const ActiveSession = z
  .object({
    id: Id,
    createdAt: Timestamp,
    lastUsedAt: Timestamp.describe("The last sign-in or token refresh of this session"),
    expiresAt: Timestamp,
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    current: z.boolean().describe("The session that made this request"),
  })
  .meta({ id: "ActiveSession" });
export type ActiveSession = z.infer<typeof ActiveSession>;

const DeletionOrg = z.object({
  id: Id,
  slug: z.string(),
  name: z.string(),
  personal: z.boolean(),
});

export const AccountDeletionPlan = z
  .object({
    deletes: z
      .array(DeletionOrg)
      .describe(
        "Orgs deleted with the account, with their projects: the personal org, and orgs where the user is the only member",
      ),
    blockedBy: z
      .array(DeletionOrg)
      .describe(
        "Orgs where the user is the last owner but not the last member: make someone else an owner (or delete the org) first",
      ),
    leaves: z.array(DeletionOrg).describe("Orgs the user leaves; they stay with their other members"),
  })
  .meta({ id: "AccountDeletionPlan" });
export type AccountDeletionPlan = z.infer<typeof AccountDeletionPlan>;

export const DeleteAccountBody = z.strictObject({ password: z.string().min(1).max(256) });
export type DeleteAccountBody = z.infer<typeof DeleteAccountBody>;

export const SessionsRevoked = z.object({ revoked: z.number().int() }).meta({ id: "SessionsRevoked" });
export type SessionsRevoked = z.infer<typeof SessionsRevoked>;

/** A sign-in provider's id, as the operator named it (KILN_OIDC_PROVIDERS) or `google`. */
export const SignInProviderId = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "a provider id");

export const OidcStartQuery = z.strictObject({
  next: z.string().max(2000).optional().describe("Where to go once signed in (a path of this studio)"),
});

/**
 * What the provider sends back (RFC 6749 §4.1.2, RFC 9207's `iss`); providers add parameters of their own,
 * so others are let through and ignored.
 */
export const OidcCallbackQuery = z.looseObject({
  code: z.string().max(4000).optional(),
  state: z.string().max(1000).optional(),
  iss: z.string().max(2000).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});

export const OidcLinkStarted = z
  .object({ url: z.string().describe("The provider's authorization URL: navigate the browser there") })
  .meta({ id: "OidcLinkStarted" });

export const LinkedIdentity = z
  .object({
    provider: z.string(),
    providerName: z.string(),
    email: z.string().nullable(),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
  })
  .meta({ id: "LinkedIdentity" });
export type LinkedIdentity = z.infer<typeof LinkedIdentity>;

export const SignInMethods = z
  .object({
    password: z.boolean().describe("The account has a password"),
    identities: z.array(LinkedIdentity),
  })
  .meta({ id: "SignInMethods" });
export type SignInMethods = z.infer<typeof SignInMethods>;
