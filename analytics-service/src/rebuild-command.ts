/**
 * `npm run rebuild -w @hft/analytics-service`: recomputes every analytics figure from the start of
 * the executions topic into fresh tables and swaps them in (see rebuild.ts). Reads the service's
 * variables (environment, else .env, else .env.example) so it rebuilds what the service serves;
 * the service may keep running. Exits 0 with a summary, 1 with the reason.
 */
import { existsSync } from "node:fs";
import { createKafkaClient, createLogger, createPostgresPool, loadConfigOrExit } from "@hft/service-kit";
import { analyticsConfigShape } from "./config.js";
import { Names } from "./names.js";
import { rebuildFigures } from "./rebuild.js";

for (const file of ["../../.env", "../../.env.example"]) {
  const url = new URL(file, import.meta.url);
  if (existsSync(url)) process.loadEnvFile(url);
}
const config = loadConfigOrExit(analyticsConfigShape, "analytics rebuild");
const logger = createLogger({ service: "analytics-rebuild", level: config.LOG_LEVEL });
const pool = createPostgresPool({ url: config.DATABASE_URL, max: 4, applicationName: "hft-analytics-rebuild", logger });
const kafka = createKafkaClient({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-analytics-rebuild`, logger });
try {
  const result = await rebuildFigures({ pool, kafka, topic: config.ANALYTICS_TOPIC, groupId: config.ANALYTICS_GROUP_ID, names: new Names({ pool }), logger });
  const read = [...result.messages.values()].reduce((a, b) => a + b, 0n);
  console.error(
    `analytics rebuild: ${read} messages of ${config.ANALYTICS_TOPIC} read, ${result.fills} fills counted, ${result.duplicates} duplicates skipped, ${result.rejected} rejected, in ${result.seconds.toFixed(1)} s; fresh figures are live`,
  );
  await pool.end();
  process.exit(0);
} catch (error) {
  console.error(`analytics rebuild: ${(error as Error).message}`);
  await pool.end().catch(() => undefined);
  process.exit(1);
}
