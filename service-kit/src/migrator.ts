import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";

/** One numbered SQL file, `NNN_name.sql`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly filename: string;
  readonly sql: string;
  /** SHA-256 of the file's bytes, hex. */
  readonly checksum: string;
}

export type MigrationState = "applied" | "pending" | "changed" | "missing";

/** Where one migration stands against the database. */
export interface MigrationStatus {
  readonly version: number;
  readonly name: string;
  readonly state: MigrationState;
  readonly appliedAt?: Date;
}

export type MigrationErrorCode = "MIGRATION_FILENAME" | "MIGRATION_DUPLICATE_VERSION" | "MIGRATION_CHANGED" | "MIGRATION_MISSING" | "MIGRATION_FAILED";

export class MigrationError extends Error {
  override readonly name = "MigrationError";
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const filenamePattern = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/**
 * The advisory lock every runner takes before reading or changing `schema_migrations`, so two
 * runners started together (two replicas, a deploy and an operator) apply each file once.
 */
export const MIGRATION_LOCK_KEY = 7_310_000_001;

/** Reads and checks the migration files of a folder, in version order. */
export async function readMigrations(directory: string): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const filename of (await readdir(directory)).filter((f) => f.endsWith(".sql")).sort()) {
    const match = filenamePattern.exec(filename);
    if (!match) {
      throw new MigrationError("MIGRATION_FILENAME", `migration file "${filename}" must be named NNN_lower_snake_name.sql`);
    }
    const bytes = await readFile(join(directory, filename));
    const version = Number(match[1]);
    const clash = migrations.find((m) => m.version === version);
    if (clash) {
      throw new MigrationError("MIGRATION_DUPLICATE_VERSION", `migrations "${clash.filename}" and "${filename}" share version ${version}`);
    }
    migrations.push({
      version,
      name: match[2] as string,
      filename,
      sql: bytes.toString("utf8"),
      checksum: createHash("sha256").update(bytes).digest("hex"),
    });
  }
  return migrations;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

export interface MigratorOptions {
  readonly pool: pg.Pool;
  readonly directory: string;
  /** How long to wait for another runner's lock, in milliseconds. Default 60 s. */
  readonly lockTimeoutMs?: number;
  /** Called once per applied file. */
  readonly onApplied?: (migration: Migration, elapsedMs: number) => void;
}

export interface Migrator {
  /** Applies every pending file in order, each in its own transaction; returns those applied. */
  up(): Promise<Migration[]>;
  /** Lists every file and every recorded version with its state. */
  status(): Promise<MigrationStatus[]>;
}

/**
 * Creates a migrator over `schema_migrations` (version, name, checksum, applied_at, duration).
 * `up` refuses to run when an applied file was edited or deleted: the database would no longer
 * match the files, and the fix is a new migration, never a rewrite of history.
 */
export function createMigrator(options: MigratorOptions): Migrator {
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000;

  async function withLock<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await options.pool.connect();
    try {
      await client.query(`SET lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
      await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
      try {
        await client.query("SET lock_timeout = 0");
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now(),
          execution_ms integer NOT NULL
        )`);
        return await work(client);
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
      }
    } finally {
      client.release();
    }
  }

  async function compare(client: pg.PoolClient): Promise<{ files: Migration[]; statuses: MigrationStatus[] }> {
    const files = await readMigrations(options.directory);
    const { rows } = await client.query<AppliedRow>("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version");
    const applied = new Map(rows.map((row) => [row.version, row]));
    const statuses: MigrationStatus[] = files.map((file) => {
      const row = applied.get(file.version);
      if (!row) return { version: file.version, name: file.name, state: "pending" };
      return { version: file.version, name: file.name, state: row.checksum === file.checksum ? "applied" : "changed", appliedAt: row.applied_at };
    });
    for (const row of rows) {
      if (!files.some((f) => f.version === row.version)) {
        statuses.push({ version: row.version, name: row.name, state: "missing", appliedAt: row.applied_at });
      }
    }
    statuses.sort((a, b) => a.version - b.version);
    return { files, statuses };
  }

  return {
    async up() {
      return withLock(async (client) => {
        const { files, statuses } = await compare(client);
        for (const status of statuses) {
          const label = `${String(status.version).padStart(3, "0")}_${status.name}.sql`;
          if (status.state === "changed") {
            throw new MigrationError(
              "MIGRATION_CHANGED",
              `migration ${label} was changed after it was applied (its checksum no longer matches schema_migrations); restore the file and add a new migration instead`,
            );
          }
          if (status.state === "missing") {
            throw new MigrationError("MIGRATION_MISSING", `migration ${label} is recorded as applied but its file is missing from ${options.directory}`);
          }
        }
        const pending = files.filter((file) => statuses.some((s) => s.version === file.version && s.state === "pending"));
        for (const migration of pending) {
          const started = performance.now();
          try {
            await client.query("BEGIN");
            await client.query(migration.sql);
            const elapsedMs = Math.round(performance.now() - started);
            await client.query("INSERT INTO schema_migrations (version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4)", [
              migration.version,
              migration.name,
              migration.checksum,
              elapsedMs,
            ]);
            await client.query("COMMIT");
            options.onApplied?.(migration, elapsedMs);
          } catch (err) {
            await client.query("ROLLBACK");
            throw new MigrationError("MIGRATION_FAILED", `migration ${migration.filename} failed and was rolled back: ${(err as Error).message}`, { cause: err });
          }
        }
        return pending;
      });
    },
    async status() {
      return withLock(async (client) => (await compare(client)).statuses);
    },
  };
}
