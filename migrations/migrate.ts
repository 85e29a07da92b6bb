/**
 * `npm run migrate -- up|status`: applies or lists the numbered SQL files in this folder against
 * DATABASE_URL (from the environment, else from .env). Exits 1 with the reason on any refusal (edited or missing applied file, SQL error).
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createMigrator, createPostgresPool, loadConfig, postgresConfig } from "@hft/service-kit";

const command = process.argv[2];
if (command !== "up" && command !== "status") {
  console.error("usage: npm run migrate -- up|status");
  process.exit(2);
}

// A developer's .env (made from .env.example by scripts/bootstrap.sh) fills in what the
// environment does not set; deployments set the variables themselves.
const dotenv = new URL("../.env", import.meta.url);
if (existsSync(dotenv)) process.loadEnvFile(dotenv);

let config;
try {
  config = loadConfig(postgresConfig);
} catch (err) {
  console.error(`migrate: ${(err as Error).message}`);
  process.exit(1);
}
const pool = createPostgresPool({ url: config.DATABASE_URL, max: 2, applicationName: "hft-migrate" });
const migrator = createMigrator({
  pool,
  directory: dirname(fileURLToPath(import.meta.url)),
  onApplied: (m, ms) => console.log(`applied ${m.filename} (${ms} ms)`),
});

try {
  if (command === "up") {
    const applied = await migrator.up();
    console.log(applied.length === 0 ? "schema is up to date" : `applied ${applied.length} migration(s)`);
  } else {
    for (const s of await migrator.status()) {
      const when = s.appliedAt ? s.appliedAt.toISOString() : "";
      console.log(`${String(s.version).padStart(3, "0")}  ${s.name.padEnd(32)} ${s.state.padEnd(8)} ${when}`);
    }
  }
} catch (err) {
  console.error(`migrate ${command}: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
