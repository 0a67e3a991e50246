import { randomBytes, randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { is, sql } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { OrgService } from "../orgs/service.ts";
import { ProjectStorage } from "../projects/storage.ts";
import { testDbKind, uniqueSlug } from "../testing/harness.ts";
import { ADMIN_URL } from "../testing/postgres-setup.ts";
import { type Database, openDatabase, query } from "./client.ts";
import { loadMigrations, migrateAll, TENANT_SCHEMA_VERSION } from "./migrate.ts";
import * as sharedSchema from "./schema-shared.ts";
import { users } from "./schema-shared.ts";
import * as tenantSchema from "./schema-tenant.ts";

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");
const SHARED_COUNT = loadMigrations("shared").length;

/**
 * These tests rewrite orgs and tenant schemas, so each gets a database of its own rather than the one the
 * other test files share: a fresh in-memory PGlite, or a fresh PostgreSQL database dropped afterwards.
 */
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function privateDatabase(): Promise<{ open(): Promise<Database> }> {
  if (testDbKind() === "pglite") {
    const database = await openDatabase({});
    cleanups.push(() => database.close());
    // PGlite is one connection: every "caller" shares the instance, as replicas cannot exist.
    return { open: async () => database };
  }
  const name = `kiln_test_migrate_${randomBytes(5).toString("hex")}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const opened: Database[] = [];
  cleanups.push(async () => {
    for (const database of opened) await database.close();
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  return {
    async open() {
      const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 4 });
      opened.push(database);
      return database;
    },
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The real tenant migrations plus one more, as the next release would ship it. */
function withExtraTenantMigration(): ReturnType<typeof loadMigrations> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-migrations-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const real = readdirSync(path.join(MIGRATIONS_DIR, "tenant")).filter((f) => f.endsWith(".sql"));
  for (const file of real) copyFileSync(path.join(MIGRATIONS_DIR, "tenant", file), path.join(dir, file));
  const next = String(real.length + 1).padStart(4, "0");
  writeFileSync(
    path.join(dir, `${next}_upgrade_probe.sql`),
    "CREATE TABLE upgrade_probe (id integer PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO upgrade_probe VALUES (1);\n",
  );
  return loadMigrations("tenant", dir);
}

async function createUser(database: Database): Promise<string> {
  const id = randomUUID();
  await database.db
    .insert(users)
    .values({ id, email: `${id}@example.com`, name: "Migrator", passwordHash: "not-a-hash" });
  return id;
}

async function createOrgs(database: Database, count: number): Promise<Array<{ id: string; schema: string }>> {
  const owner = await createUser(database);
  const orgs = new OrgService(database, new ProjectStorage(os.tmpdir()));
  const created = [];
  for (let i = 0; i < count; i++) {
    const org = await orgs.create(owner, { name: `Org ${i}`, slug: uniqueSlug("mig") });
    const [row] = await query<{ schema_name: string }>(
      database.db,
      sql`SELECT schema_name FROM orgs WHERE id = ${org.id}::uuid`,
    );
    created.push({ id: org.id, schema: row!.schema_name });
  }
  return created;
}

async function tenantVersions(database: Database, org: { id: string; schema: string }) {
  const [row] = await query<{ schema_version: number }>(
    database.db,
    sql`SELECT schema_version FROM orgs WHERE id = ${org.id}::uuid`,
  );
  const recorded = await query<{ version: number }>(
    database.db,
    sql.raw(`SELECT version FROM "${org.schema}".schema_migrations ORDER BY version`),
  );
  return { orgs: row!.schema_version, schemaMigrations: recorded.map((r) => r.version) };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

// The root testTimeout does not reach vitest's inline projects (no `extends: true`), and a fresh PGlite
// plus migrations can take several seconds on a loaded machine.
const SLOW = { timeout: 30_000 };

describe("migrations", SLOW, () => {
  it("a second migrateAll applies nothing", async () => {
    const database = await (await privateDatabase()).open();
    expect(await migrateAll(database)).toEqual({ shared: SHARED_COUNT, tenants: 0 });
    await createOrgs(database, 2);
    expect(await migrateAll(database)).toEqual({ shared: 0, tenants: 0 });
    const applied = await query<{ version: number }>(
      database.db,
      sql`SELECT version FROM kiln_migrations ORDER BY version`,
    );
    expect(applied.map((r) => r.version)).toEqual(range(SHARED_COUNT));
  });

  it("upgrades every stale tenant and records the version in orgs and in the tenant schema", async () => {
    const database = await (await privateDatabase()).open();
    await migrateAll(database);
    const orgs = await createOrgs(database, 3);
    for (const org of orgs) {
      expect(await tenantVersions(database, org)).toEqual({
        orgs: TENANT_SCHEMA_VERSION,
        schemaMigrations: range(TENANT_SCHEMA_VERSION),
      });
    }

    const next = withExtraTenantMigration();
    expect(next).toHaveLength(TENANT_SCHEMA_VERSION + 1);
    expect(await migrateAll(database, { tenantMigrations: next })).toEqual({ shared: 0, tenants: 3 });
    for (const org of orgs) {
      expect(await tenantVersions(database, org)).toEqual({
        orgs: next.length,
        schemaMigrations: range(next.length),
      });
      // The new table landed in the tenant's schema, not in public.
      const probe = await query<{ id: number }>(
        database.db,
        sql.raw(`SELECT id FROM "${org.schema}".upgrade_probe`),
      );
      expect(probe).toEqual([{ id: 1 }]);
    }
    const [leaked] = await query(database.db, sql`SELECT to_regclass('public.upgrade_probe') AS t`);
    expect(leaked).toEqual({ t: null });

    // Now current: nothing is stale, and each tenant's bookkeeping is untouched.
    expect(await migrateAll(database, { tenantMigrations: next })).toEqual({ shared: 0, tenants: 0 });
    for (const org of orgs)
      expect((await tenantVersions(database, org)).schemaMigrations).toEqual(range(next.length));
  });

  it("brings an empty tenant schema (version 0) to the newest version", async () => {
    const database = await (await privateDatabase()).open();
    await migrateAll(database);
    const [org] = await createOrgs(database, 1);
    await database.db.execute(sql.raw(`DROP SCHEMA "${org!.schema}" CASCADE`));
    await database.db.execute(sql.raw(`CREATE SCHEMA "${org!.schema}"`));
    await database.db.execute(sql`UPDATE orgs SET schema_version = 0 WHERE id = ${org!.id}::uuid`);

    expect(await migrateAll(database)).toEqual({ shared: 0, tenants: 1 });
    expect(await tenantVersions(database, org!)).toEqual({
      orgs: TENANT_SCHEMA_VERSION,
      schemaMigrations: range(TENANT_SCHEMA_VERSION),
    });
  });

  it("refuses to upgrade a tenant whose schema is missing instead of creating its tables in public", async () => {
    const database = await (await privateDatabase()).open();
    await migrateAll(database);
    const [org] = await createOrgs(database, 1);
    await database.db.execute(sql.raw(`DROP SCHEMA "${org!.schema}" CASCADE`));
    await database.db.execute(sql`UPDATE orgs SET schema_version = 0 WHERE id = ${org!.id}::uuid`);

    await expect(migrateAll(database)).rejects.toThrow(/tenant schema .* is missing/);
    const [leaked] = await query(database.db, sql`SELECT to_regclass('public.projects') AS t`);
    expect(leaked).toEqual({ t: null });
  });

  it("two callers migrating at once both succeed and apply each migration once", async () => {
    const db = await privateDatabase();
    const [a, b] = [await db.open(), await db.open()];
    // A fresh database: both race to create kiln_migrations and apply the shared layer.
    const first = await Promise.all([migrateAll(a), migrateAll(b)]);
    expect(first[0].shared + first[1].shared).toBe(SHARED_COUNT);
    const shared = await query<{ version: number }>(
      a.db,
      sql`SELECT version FROM kiln_migrations ORDER BY version`,
    );
    expect(shared.map((r) => r.version)).toEqual(range(SHARED_COUNT));

    // Then both race to upgrade the same stale tenants.
    const orgs = await createOrgs(a, 4);
    const next = withExtraTenantMigration();
    await Promise.all([migrateAll(a, { tenantMigrations: next }), migrateAll(b, { tenantMigrations: next })]);
    for (const org of orgs) {
      expect(await tenantVersions(a, org)).toEqual({
        orgs: next.length,
        schemaMigrations: range(next.length),
      });
    }
  });
});

interface DbColumn {
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: "YES" | "NO";
  has_default: boolean;
  primary_key: boolean;
}

const BOOKKEEPING = { shared: "kiln_migrations", tenant: "schema_migrations" };

function tablesOf(module: Record<string, unknown>): PgTable[] {
  return Object.values(module).filter((v): v is PgTable => is(v, PgTable));
}

/** Describes a table the way information_schema does, from the drizzle definition. */
function describeDrizzle(table: PgTable): Omit<DbColumn, "table_name">[] {
  const config = getTableConfig(table);
  const compositeKey = new Set(config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)));
  return config.columns
    .map((c) => ({
      column_name: c.name,
      data_type: c.getSQLType(),
      is_nullable: (c.notNull ? "NO" : "YES") as DbColumn["is_nullable"],
      has_default: c.hasDefault,
      primary_key: c.primary || compositeKey.has(c.name),
    }))
    .sort((x, y) => x.column_name.localeCompare(y.column_name));
}

async function describeDatabase(
  database: Database,
  schema: string,
): Promise<Map<string, Omit<DbColumn, "table_name">[]>> {
  const columns = await query<DbColumn>(
    database.db,
    // An array column is "ARRAY" there, its element type in udt_name (`_text`): spelled `text[]` as drizzle does.
    sql`SELECT c.table_name, c.column_name,
          CASE WHEN c.data_type = 'ARRAY' THEN substr(c.udt_name, 2) || '[]' ELSE c.data_type END AS data_type,
          c.is_nullable,
          c.column_default IS NOT NULL AS has_default,
          EXISTS (
            SELECT 1 FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage k
              ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema
            WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema
              AND tc.table_name = c.table_name AND k.column_name = c.column_name
          ) AS primary_key
        FROM information_schema.columns c
        WHERE c.table_schema = ${schema}
        ORDER BY c.table_name, c.column_name`,
  );
  const tables = new Map<string, Omit<DbColumn, "table_name">[]>();
  for (const { table_name, ...column } of columns) {
    tables.set(table_name, [...(tables.get(table_name) ?? []), column]);
  }
  for (const list of tables.values()) list.sort((x, y) => x.column_name.localeCompare(y.column_name));
  return tables;
}

describe("the SQL migrations and the drizzle schema", SLOW, () => {
  it("describe the same tables, columns, types, nullability, defaults and primary keys", async () => {
    const database = await (await privateDatabase()).open();
    await migrateAll(database);
    const [org] = await createOrgs(database, 1);

    for (const [layer, module, schema] of [
      ["shared", sharedSchema, "public"],
      ["tenant", tenantSchema, org!.schema],
    ] as const) {
      const actual = await describeDatabase(database, schema);
      actual.delete(BOOKKEEPING[layer]);
      const expected = new Map(tablesOf(module).map((t) => [getTableConfig(t).name, describeDrizzle(t)]));
      expect(expected.size, `${layer} drizzle tables`).toBeGreaterThan(0);
      expect([...actual.keys()].sort(), `${layer} tables`).toEqual([...expected.keys()].sort());
      for (const [table, columns] of expected) {
        expect(actual.get(table), `${layer} table ${table}`).toEqual(columns);
      }
    }
  });

  it("shared and tenant table names never overlap, bookkeeping tables included", async () => {
    // Tenant queries run with search_path "<tenant>, public": a shared name in a tenant would shadow it.
    const shared = [...tablesOf(sharedSchema).map((t) => getTableConfig(t).name), BOOKKEEPING.shared];
    const tenant = [...tablesOf(tenantSchema).map((t) => getTableConfig(t).name), BOOKKEEPING.tenant];
    expect(tenant.length).toBeGreaterThan(1);
    expect(shared.filter((name) => tenant.includes(name))).toEqual([]);
  });
});
