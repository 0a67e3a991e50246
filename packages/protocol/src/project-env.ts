import { z } from "zod";
import { Timestamp } from "./common.ts";

/** What a project's environment may hold: shell-style names, values an `execve` can carry, a bounded count. */
export const ENV_LIMITS = {
  nameChars: 128,
  valueBytes: 32 * 1024,
  perProject: 100,
  /** A secret at least this long shows its last 4 characters as a hint; a shorter one shows nothing. */
  hintMinChars: 16,
} as const;

export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

export const EnvVarName = z
  .string()
  .min(1)
  .max(ENV_LIMITS.nameChars)
  .regex(ENV_NAME_PATTERN, "capital letters, digits and _; not starting with a digit")
  .describe("Variable name, e.g. STRIPE_KEY");

/**
 * A value as the process will see it. NUL cannot cross `execve` (the dev server would fail to start) and a lone
 * surrogate has no UTF-8 form, so both are refused rather than silently changed.
 */
export const EnvVarValue = z
  .string()
  .max(ENV_LIMITS.valueBytes)
  .refine((s) => !s.includes("\u0000"), "must not contain NUL")
  .refine((s) => s.isWellFormed(), "must be valid Unicode")
  .refine(
    (s) => new TextEncoder().encode(s).length <= ENV_LIMITS.valueBytes,
    `at most ${ENV_LIMITS.valueBytes / 1024} KiB`,
  );

const EXACT_RESERVED = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "PWD",
  "OLDPWD",
  "SHLVL",
  "HOSTNAME",
  "TERM",
  "LANG",
  "TMPDIR",
  "IFS",
  "PS1",
  "PS2",
  "PS4",
  "ENV",
  "BASH_ENV",
  "CDPATH",
  "PROMPT_COMMAND",
  "NODE_OPTIONS",
  "NODE_PATH",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "PORT",
  "HOST",
]);
const RESERVED_PREFIXES = ["LD_", "KILN_", "GIT_", "NPM_CONFIG_", "BASH_FUNC_"];

/**
 * Why a name is not Kiln's to give to a project, or undefined when it may be set. These are the names the
 * sandbox, the shell, Node, the dynamic loader and the dev server's port depend on: set by a project they
 * would break its own dev server, terminal and agent commands (or Kiln's commands in its sandbox).
 */
export function reservedEnvName(name: string): string | undefined {
  if (EXACT_RESERVED.has(name)) return `${name} is set by Kiln's sandbox; choose another name`;
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `names starting with ${prefix} are reserved by Kiln's sandbox; choose another name`;
  return undefined;
}

export const SetEnvVarBody = z.strictObject({
  name: EnvVarName,
  value: EnvVarValue.describe("The whole value; sent again to change a secret"),
  secret: z
    .boolean()
    .default(false)
    .describe("Never shown again by the API (only a hint of its last characters); the app still sees it"),
});
export type SetEnvVarBody = z.infer<typeof SetEnvVarBody>;

export const EnvVar = z
  .object({
    name: z.string(),
    secret: z.boolean(),
    value: z
      .string()
      .nullable()
      .describe("A plain variable's value, for those who may change the project; null for a secret"),
    hint: z
      .string()
      .nullable()
      .describe("A long secret's last 4 characters (`…abcd`), for those who may change the project"),
    updatedAt: Timestamp,
  })
  .meta({ id: "EnvVar" });
export type EnvVar = z.infer<typeof EnvVar>;

export const EnvVarSaved = z.object({
  variable: EnvVar,
  restarted: z.boolean().describe("The dev server was running and restarts so the app sees the change"),
});
export type EnvVarSaved = z.infer<typeof EnvVarSaved>;

export const EnvVarRemoved = z.object({
  ok: z.literal(true),
  restarted: z.boolean().describe("The dev server was running and restarts so the app sees the change"),
});
