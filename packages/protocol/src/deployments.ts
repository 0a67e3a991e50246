import { z } from "zod";
import { Timestamp } from "./common.ts";
import { DeployTargetKind } from "./deploy-targets.ts";

/**
 * A deployment: one production build of a project, kept as an immutable artifact. A project serves at most
 * one ("current") at its public address; promoting another (a rollback) is instant, nothing is rebuilt.
 */
export const DeploymentStatus = z.enum(["building", "ready", "failed"]);
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

export const DeploymentId = z.uuid().describe("Deployment id");

export const Deployment = z
  .object({
    id: DeploymentId,
    /** 1, 2, 3… per project, in the order they were made. */
    number: z.number().int().min(1),
    status: DeploymentStatus,
    /** The commit of the project's history the build was made from (its latest checkpoint). */
    commit: z.string().nullable(),
    /** Files and bytes of the artifact, once built. */
    files: z.number().int().min(0).nullable(),
    bytes: z.number().int().min(0).nullable(),
    /** Why it failed, in a sentence. */
    error: z.string().nullable(),
    /** The one the public address serves (Kiln's hosting only). */
    current: z.boolean(),
    /** Where it went: null for Kiln's own hosting, else the org's deploy target (ADR 0024). */
    target: z
      .object({
        id: z.string().nullable().describe("null: the target was removed"),
        name: z.string(),
        kind: DeployTargetKind,
      })
      .nullable()
      .describe("null: Kiln's hosting"),
    /** An external deployment's address on its host, once the host has it. */
    url: z.string().nullable(),
    /** A server app (its artifact runs as a process, with a runtime log) rather than files. */
    server: z.boolean(),
    createdBy: z.string().nullable(),
    createdAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: "Deployment" });
export type Deployment = z.infer<typeof Deployment>;

/** A project's deployments, newest first, and the address the current one serves at. */
export const DeploymentList = z
  .object({ url: z.string(), deployments: z.array(Deployment) })
  .meta({ id: "DeploymentList" });
export type DeploymentList = z.infer<typeof DeploymentList>;

/** A build's output as it ran, and how it ended (while building: so far). */
export const DeploymentLog = z
  .object({ status: DeploymentStatus, log: z.string() })
  .meta({ id: "DeploymentLog" });
export type DeploymentLog = z.infer<typeof DeploymentLog>;

/** What an artifact may hold: a production build is far smaller, these stop a runaway one. */
export const ARTIFACT_LIMITS = {
  files: 20_000,
  bytes: 512 * 1024 * 1024,
  fileBytes: 100 * 1024 * 1024,
  /** Bytes of build output kept (head and tail). */
  logBytes: 256 * 1024,
} as const;
