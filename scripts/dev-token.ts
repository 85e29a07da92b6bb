/**
 * `npm run dev-token -- <account> [viewer|trader|admin]`: for local development, makes sure the
 * account exists in the local database and prints an HS256 token for it, signed with the
 * AUTH_HS256_SECRET the services use (.env.example, overridden by .env). Not for production:
 * there tokens come from the identity provider and the services verify them with AUTH_JWKS_FILE.
 */
import { existsSync } from "node:fs";
import { ConfigError, createPostgresPool, env, loadConfig, postgresConfig, signDevToken } from "@hft/service-kit";

const [account, role = "trader"] = process.argv.slice(2);
if (!account || !["viewer", "trader", "admin"].includes(role)) {
  console.error("usage: npm run dev-token -- <account> [viewer|trader|admin]");
  process.exit(2);
}
for (const file of ["../.env.example", "../.env"]) {
  const url = new URL(file, import.meta.url);
  if (existsSync(url)) process.loadEnvFile(url);
}
let config;
try {
  config = loadConfig({ ...postgresConfig, AUTH_ISSUER: env.text(), AUTH_AUDIENCE: env.text(), AUTH_HS256_SECRET: env.text(32) });
} catch (error) {
  console.error(`dev-token: ${error instanceof ConfigError ? error.message : String(error)}`);
  process.exit(1);
}
const pool = createPostgresPool({ url: config.DATABASE_URL, max: 1, applicationName: "hft-dev-token" });
try {
  const created = await pool.query("INSERT INTO accounts (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", [account]);
  if (created.rowCount === 1) console.error(`dev-token: created account ${account}`);
} finally {
  await pool.end();
}
console.log(
  await signDevToken({ account, role: role as "viewer" | "trader" | "admin", hs256Secret: config.AUTH_HS256_SECRET, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE }),
);
