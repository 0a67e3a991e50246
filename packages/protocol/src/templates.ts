import { z } from "zod";

/** The template a project starts from when the request names none. */
export const DEFAULT_TEMPLATE = "react-vite";

export const TemplateName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, "lowercase letters, digits and '-', starting with a letter")
  .describe("Template name, e.g. react-vite");

const EnvName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name");

/** A path inside the template, `/`-separated, never absolute and never climbing out. */
const RelativePath = z
  .string()
  .min(1)
  .max(200)
  .refine((p) => !p.startsWith("/") && !p.includes("\\") && !p.split("/").includes(".."), "a relative path");

const Argv = z.array(z.string().min(1).max(500)).min(1).max(50);

/** `templates/<name>/kiln.json`: how Kiln copies, installs and runs a template. */
export const TemplateManifest = z.strictObject({
  $comment: z.string().optional(),
  name: TemplateName,
  title: z.string().min(1).max(80),
  description: z.string().min(1).max(500),
  dev: z.strictObject({
    /** Run in the project directory, without a shell. */
    argv: Argv,
    /** Fixed environment for the dev command (e.g. HOST=0.0.0.0 so the sandbox's port can be reached). */
    env: z.record(EnvName, z.string().max(1000)).default({}),
    /** How the dev server learns its port: an environment variable, a flag followed by the port, or both. */
    port: z
      .strictObject({
        env: EnvName.optional(),
        flag: z
          .string()
          .regex(/^--?[a-z][a-z0-9-]*$/)
          .optional(),
        default: z.number().int().min(1).max(65535),
      })
      .refine((p) => p.env !== undefined || p.flag !== undefined, "port needs `env` or `flag`"),
    /** The dev server is up when GET `path` answers 200 (with `contains` in the body, when given). */
    ready: z.strictObject({
      path: z.string().startsWith("/").max(200),
      contains: z.string().max(200).optional(),
    }),
    /**
     * Warms a spare workspace before anyone takes it: the dev server is started once in its sandbox, asked
     * for `paths`, and stopped once `until` (a file its first requests make, e.g. Vite's optimised
     * dependencies) exists — so the project's first page load finds that work done.
     */
    prewarm: z
      .strictObject({
        paths: z.array(z.string().startsWith("/").max(200)).min(1).max(10),
        until: RelativePath,
      })
      .optional(),
  }),
  /** Dependencies installed once per lockfile into the shared cache; absent for zero-dependency templates. */
  install: z
    .strictObject({
      argv: Argv,
      lockfile: RelativePath,
      /**
       * Where the dev command keeps Node's compile cache, inside `node_modules`. Kiln primes it when it
       * installs the dependencies (one start of the dev server), so every project's first start is warm.
       */
      compileCache: RelativePath.refine(
        (p) => p.startsWith("node_modules/"),
        "a directory inside node_modules/",
      ).optional(),
    })
    .optional(),
  /**
   * How the project is built for production (Publish). `argv` runs in the project's sandbox, without a shell
   * (none: the files are served as they are); `output` is the directory to publish (`.` the project itself,
   * without dot-files and `node_modules`). `spa`: unknown page paths answer `index.html` (client-side routing).
   */
  build: z
    .strictObject({
      argv: Argv.optional(),
      output: z.union([z.literal("."), RelativePath]),
      spa: z.boolean().default(false),
      /** Names left out of the artifact wherever they appear (e.g. the dev server's own script). */
      exclude: z.array(z.string().min(1).max(100)).max(50).default([]),
      /**
       * A server app: the published artifact runs `argv` (in its own sandbox, told its port by `PORT`),
       * restarted when it crashes; it is up once GET `health` answers 2xx. Without it, files are served.
       */
      serve: z
        .strictObject({
          argv: Argv,
          health: z.string().startsWith("/").max(200),
        })
        .optional(),
    })
    .optional(),
  /** What the agent should read before editing, most important first. */
  readFirst: z.array(RelativePath).min(1).max(20),
  /** Extra `.gitignore` lines on top of Kiln's defaults. */
  gitignore: z.array(z.string().min(1).max(200)).max(50).default([]),
});
export type TemplateManifest = z.infer<typeof TemplateManifest>;

export const Template = z
  .object({
    name: TemplateName,
    title: z.string(),
    description: z.string(),
    /**
     * Present while the server installs the template's dependencies (a new instance whose install did not
     * prepare them): how far, 0–99. A project from it waits for that install.
     */
    preparing: z.number().int().min(0).max(99).optional(),
  })
  .meta({ id: "Template" });
export type Template = z.infer<typeof Template>;
