import { randomBytes } from "node:crypto";
import pg from "pg";
import { loadConfig, postgresConfig } from "../config.js";
import { createPostgresPool } from "../clients.js";

/** A throwaway database for one test file, dropped by `drop()`. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * Creates an empty database beside DATABASE_URL's (the application role may create databases in
 * the local stack), so integration tests never touch development data nor each other.
 */
export async function createTestDatabase(prefix = "test"): Promise<TestDatabase> {
  const { DATABASE_URL } = loadConfig(postgresConfig);
  const name = `hft_${prefix}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const pool = createPostgresPool({ url: url.toString(), max: 10, applicationName: `hft-${prefix}` });
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const cleanup = new pg.Client({ connectionString: DATABASE_URL });
      await cleanup.connect();
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            break;
          } catch (error) {
            // FORCE cannot end another role's session in the database (42501), such as an
            // autovacuum worker's, which runs as the bootstrap superuser: it ends by itself, so
            // wait for it, boundedly.
            if ((error as { code?: string }).code !== "42501" || attempt === 50) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      } finally {
        await cleanup.end();
      }
    },
  };
}
