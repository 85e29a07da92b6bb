import { cp, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MigrationError, createMigrator } from "./migrator.js";
import { createTestDatabase, type TestDatabase } from "./testing/index.js";

const projectMigrations = fileURLToPath(new URL("../../migrations", import.meta.url));

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase("migrate");
});
afterEach(async () => {
  await db.drop();
});

async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "migrations-"));
  for (const file of (await readdir(projectMigrations)).filter((f) => f.endsWith(".sql"))) {
    await cp(join(projectMigrations, file), join(dir, file));
  }
  return dir;
}

async function errorOf(promise: Promise<unknown>): Promise<MigrationError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof MigrationError) return err;
    throw err;
  }
  throw new Error("expected a MigrationError");
}

describe("migrator against PostgreSQL", () => {
  it("applies the project's migrations to an empty database, then has nothing left to do", async () => {
    const migrator = createMigrator({ pool: db.pool, directory: projectMigrations });
    const applied = await migrator.up();
    expect(applied.map((m) => m.filename)).toEqual((await readdir(projectMigrations)).filter((f) => f.endsWith(".sql")).sort());
    expect(await migrator.up()).toEqual([]);

    const { rows } = await db.pool.query<{ symbol: string; tick_size: string; lot_size: string }>(
      "SELECT symbol, tick_size::text, lot_size::text FROM instruments WHERE symbol IN ('BTC-USD', 'AAPL') ORDER BY symbol",
    );
    expect(rows).toEqual([
      { symbol: "AAPL", tick_size: "0.01", lot_size: "1" },
      { symbol: "BTC-USD", tick_size: "0.01", lot_size: "0.0001" },
    ]);
  });

  it("lists every file's state: pending before, applied after", async () => {
    const migrator = createMigrator({ pool: db.pool, directory: projectMigrations });
    const before = await migrator.status();
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.every((s) => s.state === "pending" && s.appliedAt === undefined)).toBe(true);
    await migrator.up();
    const after = await migrator.status();
    expect(after.map((s) => s.version)).toEqual(before.map((s) => s.version));
    expect(after.every((s) => s.state === "applied" && s.appliedAt instanceof Date)).toBe(true);
  });

  it("records version, name, checksum and time of each file", async () => {
    await createMigrator({ pool: db.pool, directory: projectMigrations }).up();
    const { rows } = await db.pool.query("SELECT version, name, checksum, applied_at FROM schema_migrations WHERE version = 1");
    expect(rows[0]).toMatchObject({ version: 1, name: "reference_data" });
    expect(rows[0].checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].applied_at).toBeInstanceOf(Date);
  });

  it("refuses to go on when an applied file was edited, naming the file", async () => {
    const dir = await copyOfMigrations();
    await createMigrator({ pool: db.pool, directory: dir }).up();
    await writeFile(join(dir, "001_reference_data.sql"), "-- edited after it was applied\nSELECT 1;\n");
    await writeFile(join(dir, "900_later.sql"), "CREATE TABLE later (id integer);\n");
    const migrator = createMigrator({ pool: db.pool, directory: dir });
    const err = await errorOf(migrator.up());
    expect(err.code).toBe("MIGRATION_CHANGED");
    expect(err.message).toContain("migration 001_reference_data.sql was changed after it was applied");
    expect((await migrator.status()).find((s) => s.version === 1)?.state).toBe("changed");
    const { rows } = await db.pool.query("SELECT to_regclass('later') AS later");
    expect(rows[0].later).toBeNull();
  });

  it("refuses to go on when an applied file is missing", async () => {
    const dir = await copyOfMigrations();
    await writeFile(join(dir, "900_later.sql"), "CREATE TABLE later (id integer);\n");
    await createMigrator({ pool: db.pool, directory: dir }).up();
    const without = await copyOfMigrations();
    const err = await errorOf(createMigrator({ pool: db.pool, directory: without }).up());
    expect(err.code).toBe("MIGRATION_MISSING");
    expect(err.message).toContain("900_later.sql");
  });

  it("rolls back a failing file whole and records nothing for it", async () => {
    const dir = await copyOfMigrations();
    await writeFile(join(dir, "900_half.sql"), "CREATE TABLE half (id integer);\nSELECT no_such_function();\n");
    const err = await errorOf(createMigrator({ pool: db.pool, directory: dir }).up());
    expect(err.code).toBe("MIGRATION_FAILED");
    expect(err.message).toContain("900_half.sql");
    const { rows } = await db.pool.query("SELECT to_regclass('half') AS half, (SELECT count(*)::int FROM schema_migrations WHERE version = 900) AS recorded");
    expect(rows[0]).toEqual({ half: null, recorded: 0 });
  });

  it("refuses badly named and duplicate-version files", async () => {
    const bad = await copyOfMigrations();
    await writeFile(join(bad, "5_oops.sql"), "SELECT 1;");
    expect((await errorOf(createMigrator({ pool: db.pool, directory: bad }).up())).code).toBe("MIGRATION_FILENAME");
    const dup = await copyOfMigrations();
    await writeFile(join(dup, "001_again.sql"), "SELECT 1;");
    expect((await errorOf(createMigrator({ pool: db.pool, directory: dup }).up())).code).toBe("MIGRATION_DUPLICATE_VERSION");
  });

  it("lets concurrent runners apply each file exactly once", async () => {
    const dir = await copyOfMigrations();
    // A slow file widens the window in which the runners would race without the lock.
    await writeFile(join(dir, "900_slow.sql"), "SELECT pg_sleep(0.3);\nCREATE TABLE slow_marker (id integer);\nINSERT INTO slow_marker VALUES (1);\n");
    const runners = Array.from({ length: 4 }, () => createMigrator({ pool: db.pool, directory: dir }));
    const results = await Promise.all(runners.map((r) => r.up()));
    const appliedCounts = results.map((applied) => applied.length).sort((a, b) => b - a);
    const total = (await readdir(dir)).length;
    expect(appliedCounts).toEqual([total, 0, 0, 0]);
    const { rows } = await db.pool.query("SELECT (SELECT count(*)::int FROM slow_marker) AS markers, (SELECT count(*)::int FROM schema_migrations) AS recorded");
    expect(rows[0]).toEqual({ markers: 1, recorded: total });
  });
});
