import { z } from "zod";
import { Name } from "./common.ts";
import { QueryBool } from "./files.ts";
import { Project } from "./projects.ts";

/**
 * Limits of a project's zip export and import. An import is refused (and leaves nothing behind) past any of
 * them; so is an export, before its first byte is sent.
 */
export const ARCHIVE_LIMITS = {
  /** Bytes of the uploaded zip. */
  uploadBytes: 100 * 1024 * 1024,
  /** Entries of a zip (directories included), and files of an export. */
  entries: 10_000,
  /** Uncompressed bytes, all entries together. */
  bytes: 512 * 1024 * 1024,
  /** Uncompressed bytes of one entry. */
  fileBytes: 100 * 1024 * 1024,
  /** Uncompressed to compressed size, for an entry of more than `ratioFloorBytes` (a zip bomb's mark). */
  ratio: 200,
  ratioFloorBytes: 1024 * 1024,
} as const;

export type ArchiveLimits = Record<keyof typeof ARCHIVE_LIMITS, number>;

export const ZIP_TYPE = "application/zip";

export const ExportProjectQuery = z.strictObject({
  history: QueryBool.optional().describe("Add the git history as <slug>.bundle at the zip's root"),
});

export const ImportProjectQuery = z.strictObject({
  name: Name.describe("The new project's name (its slug is derived from it)"),
});

/** A zip, as bytes (the OpenAPI document's spelling of a binary body). */
export const ZipBytes = z.string().meta({ format: "binary", description: "A zip archive" });

/** A raw upload: the route reads the body itself, as a stream (any value passes here). */
export const Upload = z.any().meta({ type: "string", format: "binary" });

export const ImportReport = z.object({
  template: z.string().describe("The template kind recognised from the files"),
  files: z.number().int(),
  bytes: z.number().int(),
  history: z
    .enum(["restored", "none", "kept-as-file"])
    .describe("What became of a <slug>.bundle at the zip's root"),
  notes: z.array(z.string()).describe("What was not recognised or left out, for the user"),
});
export type ImportReport = z.infer<typeof ImportReport>;

export const ImportedProject = z.object({ project: Project, report: ImportReport });
export type ImportedProject = z.infer<typeof ImportedProject>;
