import { describe, expect, it } from "vitest";
import { createPostgresPool } from "./clients.js";
import { loadConfig, postgresConfig } from "./config.js";
import type { Logger } from "./logger.js";

describe("createPostgresPool", () => {
  it("survives a checked-out client losing its connection between two queries: the next query fails, the pool goes on", { timeout: 20_000 }, async () => {
    const warnings: string[] = [];
    const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
    const { DATABASE_URL } = loadConfig(postgresConfig);
    const pool = createPostgresPool({ url: DATABASE_URL, max: 2, applicationName: "clients-int-test", logger });
    const admin = createPostgresPool({ url: DATABASE_URL, max: 1, applicationName: "clients-int-test-admin" });
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      // What a PostgreSQL restart does to the session while the client holds it and runs nothing.
      await admin.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
      await expect.poll(() => warnings, { timeout: 10_000 }).toContain("PostgreSQL client lost its connection");
      await expect(client.query("SELECT 1")).rejects.toThrow();
      client.release();
      const again = await pool.query<{ answer: number }>("SELECT 41 + 1 AS answer");
      expect(again.rows[0]?.answer).toBe(42);
    } finally {
      await pool.end();
      await admin.end();
    }
  });
});
