import { randomUUID, timingSafeEqual } from "node:crypto";
import { WORKER_TOKEN_PREFIX, type WorkerToken } from "@kiln/protocol";
import { and, eq, isNull } from "drizzle-orm";
import { recordAudit } from "../audit/index.ts";
import { hashToken, opaqueToken } from "../auth/tokens.ts";
import type { Database } from "../db/client.ts";
import { workerTokens } from "../db/schema-shared.ts";
import { NotFoundError, UnauthenticatedError } from "../errors/errors.ts";

type TokenRow = typeof workerTokens.$inferSelect;

/** What a worker's token lets it do: one org's jobs, or (the instance's own token) every org's. */
export type WorkerCredential = { orgId: string; tokenId: string } | { orgId: null; tokenId: null };

function toWorkerToken(row: TokenRow): WorkerToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

/**
 * Worker tokens: `kiln_wrk_…`, made by an org admin for the workers that run that org's jobs, shown once
 * and stored as a SHA-256 hash. `KILN_WORKER_TOKEN` is the instance's own, for the embedded worker.
 */
export class WorkerTokenService {
  readonly #database: Database;
  readonly #instanceHash: Buffer | undefined;

  constructor(database: Database, instanceToken: string | undefined) {
    this.#database = database;
    this.#instanceHash = instanceToken ? Buffer.from(hashToken(instanceToken)) : undefined;
  }

  async create(orgId: string, createdBy: string, name: string): Promise<WorkerToken & { token: string }> {
    const token = opaqueToken(WORKER_TOKEN_PREFIX);
    const row = await this.#database.transaction(async (tx) => {
      const [created] = await tx
        .insert(workerTokens)
        .values({
          id: randomUUID(),
          orgId,
          name,
          prefix: token.slice(0, WORKER_TOKEN_PREFIX.length + 6),
          tokenHash: hashToken(token),
          createdBy,
        })
        .returning();
      await recordAudit(tx, {
        orgId,
        action: "worker_token.created",
        actor: { type: "user", userId: createdBy },
        target: { type: "worker_token", id: created!.id, label: created!.name },
        data: { tokenPrefix: created!.prefix },
      });
      return created!;
    });
    return { ...toWorkerToken(row), token };
  }

  async list(orgId: string): Promise<WorkerToken[]> {
    const rows = await this.#database.db
      .select()
      .from(workerTokens)
      .where(and(eq(workerTokens.orgId, orgId), isNull(workerTokens.revokedAt)))
      .orderBy(workerTokens.createdAt);
    return rows.map(toWorkerToken);
  }

  async revoke(orgId: string, id: string, revokedBy: string): Promise<void> {
    await this.#database.transaction(async (tx) => {
      const [done] = await tx
        .update(workerTokens)
        .set({ revokedAt: new Date() })
        .where(and(eq(workerTokens.id, id), eq(workerTokens.orgId, orgId), isNull(workerTokens.revokedAt)))
        .returning({ id: workerTokens.id, name: workerTokens.name, prefix: workerTokens.prefix });
      if (!done) throw new NotFoundError("worker_token_not_found", "worker token not found");
      await recordAudit(tx, {
        orgId,
        action: "worker_token.revoked",
        actor: { type: "user", userId: revokedBy },
        target: { type: "worker_token", id: done.id, label: done.name },
        data: { tokenPrefix: done.prefix },
      });
    });
  }

  /** Whether the token (still) stands; a revoked token's connected workers are cut off with this. */
  async isValid(credential: WorkerCredential): Promise<boolean> {
    if (credential.tokenId === null) return this.#instanceHash !== undefined;
    const [row] = await this.#database.db
      .select({ id: workerTokens.id })
      .from(workerTokens)
      .where(and(eq(workerTokens.id, credential.tokenId), isNull(workerTokens.revokedAt)));
    return row !== undefined;
  }

  async authenticate(token: string): Promise<WorkerCredential> {
    const invalid = new UnauthenticatedError("token_invalid", "worker token is not valid");
    if (token.length > 200) throw invalid;
    const hash = hashToken(token);
    if (this.#instanceHash && timingSafeEqual(Buffer.from(hash), this.#instanceHash)) {
      return { orgId: null, tokenId: null };
    }
    if (!token.startsWith(WORKER_TOKEN_PREFIX)) throw invalid;
    const [row] = await this.#database.db.select().from(workerTokens).where(eq(workerTokens.tokenHash, hash));
    if (!row || row.revokedAt) throw invalid;
    // Coarse last-used stamp: workers reconnect often; one write a minute is plenty.
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      await this.#database.db
        .update(workerTokens)
        .set({ lastUsedAt: new Date() })
        .where(eq(workerTokens.id, row.id));
    }
    return { orgId: row.orgId, tokenId: row.id };
  }
}
