import { Health, PublicConfig } from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Database } from "../db/client.ts";
import { KilnError } from "../errors/errors.ts";

export function healthRoutes(app: FastifyInstance, deps: { database: Database; config: PublicConfig }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/health",
    {
      config: { auth: "none" },
      schema: { tags: ["ops"], summary: "Liveness and database check", response: { 200: Health } },
    },
    async () => {
      try {
        await deps.database.ping();
      } catch (err) {
        throw new KilnError("unavailable", "database unreachable", { cause: err });
      }
      return { status: "ok" as const, db: "ok" as const };
    },
  );

  r.get(
    "/api/config",
    {
      config: { auth: "none" },
      schema: { tags: ["ops"], summary: "Public instance configuration", response: { 200: PublicConfig } },
    },
    async () => deps.config,
  );
}
