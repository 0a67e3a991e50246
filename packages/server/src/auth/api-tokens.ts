import { randomUUID } from "node:crypto";
import type { ApiToken } from "@kiln/protocol";
import { and, eq, isNull } from "drizzle-orm";
import { type AuditEntry, recordAudit } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { apiTokens, memberships, users } from "../db/schema-shared.ts";
import { ForbiddenError, NotFoundError, UnauthenticatedError } from "../errors/errors.ts";
import type { Principal } from "../http/principal.ts";
import { API_TOKEN_PREFIX, hashToken, opaqueToken } from "./tokens.ts";

type ApiTokenRow = typeof apiTokens.$inferSelect;

function toApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
  };
}

/** Personal API tokens: `kiln_pat_…`, shown once, stored as a SHA-256 hash, revocable. */
export class ApiTokenService {
  readonly #database: Database;

  constructor(database: Database) {
    this.#database = database;
  }

  async create(userId: string, input: { name: string; expiresInDays?: number | undefined }) {
    const token = opaqueToken(API_TOKEN_PREFIX);
    const row = await this.#database.transaction(async (tx) => {
      const [created] = await tx
        .insert(apiTokens)
        .values({
          id: randomUUID(),
          userId,
          name: input.name,
          prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
          tokenHash: hashToken(token),
          expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
        })
        .returning();
      await recordInEachOrg(tx, userId, {
        action: "token.created",
        target: { type: "api_token", id: created!.id, label: created!.name },
        data: { tokenPrefix: created!.prefix, expiresAt: created!.expiresAt?.toISOString() ?? null },
      });
      return created!;
    });
    return { ...toApiToken(row), token };
  }

  async list(userId: string): Promise<ApiToken[]> {
    const rows = await this.#database.db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .orderBy(apiTokens.createdAt);
    return rows.map(toApiToken);
  }

  async revoke(userId: string, id: string): Promise<void> {
    await this.#database.transaction(async (tx) => {
      const [done] = await tx
        .update(apiTokens)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
        .returning({ id: apiTokens.id, name: apiTokens.name, prefix: apiTokens.prefix });
      if (!done) throw new NotFoundError("api_token_not_found", "API token not found");
      await recordInEachOrg(tx, userId, {
        action: "token.revoked",
        target: { type: "api_token", id: done.id, label: done.name },
        data: { tokenPrefix: done.prefix },
      });
    });
  }

  async authenticate(token: string): Promise<Principal> {
    if (token.length > 200) throw new UnauthenticatedError("token_invalid", "API token is not valid");
    const [found] = await this.#database.db
      .select({ token: apiTokens, user: users })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(eq(apiTokens.tokenHash, hashToken(token)));
    if (!found || found.token.revokedAt)
      throw new UnauthenticatedError("token_invalid", "API token is not valid");
    if (found.token.expiresAt && found.token.expiresAt.getTime() <= Date.now()) {
      throw new UnauthenticatedError("token_expired", "API token expired");
    }
    if (found.user.suspendedAt) {
      throw new ForbiddenError("account_suspended", "this token's account is suspended");
    }
    // Coarse last-used stamp: at most one write per token per minute, not one per request.
    if (!found.token.lastUsedAt || Date.now() - found.token.lastUsedAt.getTime() > 60_000) {
      await this.#database.db
        .update(apiTokens)
        .set({ lastUsedAt: new Date() })
        .where(eq(apiTokens.id, found.token.id));
    }
    return {
      userId: found.user.id,
      email: found.user.email,
      name: found.user.name,
      via: "api_token",
      apiTokenId: found.token.id,
    };
  }
}

/** A personal token reaches every org its owner is in: each of them records it. */
async function recordInEachOrg(
  tx: Executor,
  userId: string,
  entry: Pick<AuditEntry, "action" | "target" | "data">,
): Promise<void> {
  const orgIds = await tx
    .select({ orgId: memberships.orgId })
    .from(memberships)
    .where(eq(memberships.userId, userId));
  await recordAudit(
    tx,
    ...orgIds.map(({ orgId }) => ({ ...entry, orgId, actor: { type: "user" as const, userId } })),
  );
}
