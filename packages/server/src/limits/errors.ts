import { KilnError } from "../errors/errors.ts";

/** The limits a refusal can name (`details.limit`); stable, clients may switch on them. */
export type LimitName =
  | "projects_per_org"
  | "orgs_per_user"
  | "sandboxes_per_org"
  | "terminals_per_org"
  | "terminals_per_user"
  | "chat_runs_per_org"
  | "chat_runs_per_user"
  | "org_memory"
  | "org_cpu"
  | "project_disk";

/**
 * A tenant reached one of its aggregate limits. Things that persist (projects, orgs) answer 403: waiting
 * does not help, deleting one does. Things that end by themselves (sandboxes, terminals, turns) answer 429.
 * A full project answers 409: its state must change first.
 */
export class LimitExceededError extends KilnError {
  constructor(
    limit: LimitName,
    max: number,
    message: string,
    extra: { current?: number; unit?: "bytes" | "cores" } = {},
  ) {
    super("limit_exceeded", message, { status: statusFor(limit), details: { limit, max, ...extra } });
  }
}

function statusFor(limit: LimitName): number {
  if (limit === "projects_per_org" || limit === "orgs_per_user") return 403;
  if (limit === "project_disk") return 409;
  return 429;
}

/** A byte count for people: "2 GiB", "512 MiB". */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[i]}`;
}
