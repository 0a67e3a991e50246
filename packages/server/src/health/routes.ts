import { type PublicConfig, routes } from "@kiln/protocol";
import type { Database } from "../db/client.ts";
import { DATABASE_RETRY_AFTER_SECONDS } from "../db/unavailable.ts";
import { KilnError } from "../errors/errors.ts";
import type { OrgRouter } from "../orgs/router.ts";

export function healthRoutes(router: OrgRouter, deps: { database: Database; config: PublicConfig }): void {
  const c = routes.ops;

  router.handle(c.health, async () => {
    try {
      await deps.database.ping();
    } catch (err) {
      throw new KilnError("unavailable", "database unreachable", {
        cause: err,
        headers: { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
      });
    }
    return { status: "ok" as const, db: "ok" as const };
  });
  router.handle(c.config, async () => deps.config);
}
