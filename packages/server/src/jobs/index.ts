import type { FastifyBaseLogger } from "fastify";
import type { KilnConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { JobUrls } from "./dispatcher.ts";
import { JobService } from "./service.ts";

export type { JobUrls } from "./dispatcher.ts";
export { JobService, type StartJobContext } from "./service.ts";

/** Builds the job service from the server's config (kept out of kiln.ts to keep it short). */
export function createJobs(d: {
  database: Database;
  config: KilnConfig;
  log: FastifyBaseLogger;
  urls?: Partial<JobUrls>;
}): JobService {
  const { jobs, publicUrl } = d.config;
  return new JobService({
    database: d.database,
    log: d.log,
    ...jobs,
    urls: {
      // The git engineer's smart HTTP route; ids, not slugs, so a rename never breaks a running job.
      repo: d.urls?.repo ?? ((job) => `${publicUrl}/git/${job.orgId}/${job.projectId}.git`),
      modelProxy: d.urls?.modelProxy ?? `${publicUrl}/v1`,
    },
  });
}
