import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { type Database, type Executor, query, setTenantPath } from "./client.ts";

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");
// Any constant works; it only has to be the same for every replica migrating this database.
const MIGRATION_LOCK = 7_243_001;

export function loadMigrations(
  layer: "shared" | "tenant",
  dir = path.join(MIGRATIONS_DIR, layer),
): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  return files.map((file, i) => {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new Error(`migration file name must look like 0001_name.sql: ${file}`);
    const version = Number(match[1]);
    if (version !== i + 1) throw new Error(`migrations must be numbered 1..n without gaps: ${file}`);
    const statements = readFileSync(path.join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    return { version, name: match[2]!, statements };
  });
}

const shared = loadMigrations("shared");
const tenant = loadMigrations("tenant");
export const TENANT_SCHEMA_VERSION = tenant.length;

async function apply(tx: Executor, m: Migration): Promise<void> {
  // Extended-protocol drivers (PGlite through drizzle) take one statement per call.
  for (const statement of m.statements) await tx.execute(sql.raw(statement));
}

/** Creates the shared tables and brings them to the newest version. Safe to run from many replicas at once. */
export async function migrateShared(database: Database): Promise<number> {
  return database.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`CREATE TABLE IF NOT EXISTS public.kiln_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = await query<{ version: number }>(tx, sql`SELECT version FROM public.kiln_migrations`);
    const done = new Set(applied.map((r) => r.version));
    let count = 0;
    for (const m of shared) {
      if (done.has(m.version)) continue;
      await apply(tx, m);
      await tx.execute(
        sql`INSERT INTO public.kiln_migrations (version, name) VALUES (${m.version}, ${m.name})`,
      );
      count++;
    }
    return count;
  });
}

/**
 * Creates a tenant schema and applies every tenant migration inside the caller's transaction,
 * so an org row never exists without its schema.
 */
export async function createTenantSchema(tx: Executor, orgId: string, schemaName: string): Promise<void> {
  await setTenantPath(tx, schemaName);
  await tx.execute(sql.raw(`CREATE SCHEMA "${schemaName}"`));
  await upgradeTenantInTx(tx, orgId, 0);
}

async function upgradeTenantInTx(
  tx: Executor,
  orgId: string,
  from: number,
  migrations: Migration[] = tenant,
): Promise<void> {
  if (from === 0) {
    await tx.execute(sql`CREATE TABLE schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    await apply(tx, m);
    await tx.execute(sql`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`);
  }
  await tx.execute(
    sql`UPDATE public.orgs SET schema_version = ${migrations.length} WHERE id = ${orgId}::uuid`,
  );
}

export interface MigrateOptions {
  /** The tenant migrations to bring every tenant to; tests pass a longer list to exercise an upgrade. */
  tenantMigrations?: Migration[];
}

/**
 * Brings every tenant schema to the newest version. When all are current this is one indexed query,
 * not one round trip per tenant: `orgs.schema_version` mirrors each schema's own `schema_migrations`.
 */
export async function migrateTenants(database: Database, options: MigrateOptions = {}): Promise<number> {
  const migrations = options.tenantMigrations ?? tenant;
  const newest = migrations.length;
  const stale = await query<{ id: string }>(
    database.db,
    sql`SELECT id FROM public.orgs WHERE schema_version < ${newest}`,
  );
  for (const { id } of stale) {
    await database.transaction(async (tx) => {
      // Row lock: two replicas starting together upgrade each tenant once.
      const [org] = await query<{ schema_name: string; schema_version: number }>(
        tx,
        sql`SELECT schema_name, schema_version FROM public.orgs WHERE id = ${id}::uuid FOR UPDATE`,
      );
      if (!org || org.schema_version >= newest) return;
      const [exists] = await query(tx, sql`SELECT 1 FROM pg_namespace WHERE nspname = ${org.schema_name}`);
      // Without this, unqualified CREATE TABLEs would fall through the search path into public.
      if (!exists) throw new Error(`tenant schema ${org.schema_name} of org ${id} is missing`);
      await setTenantPath(tx, org.schema_name);
      await upgradeTenantInTx(tx, id, org.schema_version, migrations);
    });
  }
  return stale.length;
}

export async function migrateAll(
  database: Database,
  options: MigrateOptions = {},
): Promise<{ shared: number; tenants: number }> {
  const sharedApplied = await migrateShared(database);
  const tenants = await migrateTenants(database, options);
  return { shared: sharedApplied, tenants };
}
