import { z } from "zod";

export const PublicConfig = z
  .object({
    name: z.literal("kiln"),
    version: z.string(),
    authMethods: z.array(z.enum(["password", "api_token"])),
    appDomain: z.string().describe("Host previews hang off: <project>--<org>.<appDomain>"),
    signupOpen: z.boolean(),
    signInProviders: z
      .array(z.object({ id: z.string(), name: z.string() }))
      .describe("Single sign-on providers the log-in page offers (OpenID Connect), in the operator's order"),
  })
  .meta({ id: "PublicConfig" });
export type PublicConfig = z.infer<typeof PublicConfig>;

export const Health = z.object({ status: z.literal("ok"), db: z.literal("ok") });
