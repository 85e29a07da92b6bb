/**
 * hft-analytics-service: AnalyticsService over gRPC, answered from the figures that the consumer
 * of hft.executions.v1 keeps in PostgreSQL. SIGTERM/SIGINT: stop taking calls, let running ones
 * finish, commit the batch in flight, leave the consumer group, exit 0.
 */
import { shutdownTracing } from "@hft/otel";
import {
  createKafkaClient,
  createLogger,
  createMetricsRegistry,
  createPostgresPool,
  createTokenVerifier,
  listenOrExit,
  loadConfigOrExit,
  serveMetrics,
  serverTlsOf,
  tlsModeOf,
} from "@hft/service-kit";
import { analyticsConfigShape } from "./config.js";
import { ExecutionConsumer, startOffsetsOf } from "./execution-consumer.js";
import { FigureReads } from "./figure-reads.js";
import { FigureStore } from "./figure-store.js";
import { AnalyticsMetrics } from "./metrics.js";
import { Names } from "./names.js";
import { createAnalyticsServer } from "./service.js";
import { LIVE_TABLES } from "./tables.js";

const config = loadConfigOrExit(analyticsConfigShape, "hft-analytics-service");
const logger = createLogger({ service: "analytics-service", level: config.LOG_LEVEL });

const pool = createPostgresPool({ url: config.DATABASE_URL, max: config.DATABASE_POOL_MAX, applicationName: "hft-analytics-service", logger });
const kafka = createKafkaClient({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-analytics-service`, logger });
const admin = kafka.admin();
const registry = createMetricsRegistry({ service: "analytics-service" });
const metrics = new AnalyticsMetrics(registry);
const names = new Names({ pool });
const verify = await createTokenVerifier({
  hs256Secret: config.AUTH_HS256_SECRET,
  jwksFile: config.AUTH_JWKS_FILE,
  issuer: config.AUTH_ISSUER,
  audience: config.AUTH_AUDIENCE,
});

const store = new FigureStore({ pool, tables: LIVE_TABLES, groupId: config.ANALYTICS_GROUP_ID, topic: config.ANALYTICS_TOPIC, names, startOffset: startOffsetsOf(admin, config.ANALYTICS_TOPIC) });
const consumer = new ExecutionConsumer({
  kafka,
  admin,
  topic: config.ANALYTICS_TOPIC,
  groupId: config.ANALYTICS_GROUP_ID,
  store,
  logger,
  metrics,
  maxBytesPerPartition: config.ANALYTICS_MAX_BATCH_BYTES,
  sessionTimeoutMs: config.ANALYTICS_SESSION_TIMEOUT_MS,
  // Consumers that keep crashing leave the figures standing still: exit, so the supervisor starts a
  // fresh process (which resumes from the offsets in PostgreSQL).
  onFatal: (error) => {
    logger.fatal({ err: error }, "the consumer stopped for good; exiting");
    process.exit(1);
  },
});
const reads = new FigureReads({ pool, tables: LIVE_TABLES, names });
const { server, health } = createAnalyticsServer({ reads, names, verify, logger, registry });

const tls = serverTlsOf(config);
await listenOrExit(server, config.ANALYTICS_SERVICE_LISTEN, logger, tls);
const metricsServer = await serveMetrics(registry, config.ANALYTICS_SERVICE_METRICS_LISTEN, tls).catch((error: Error) => {
  logger.fatal({ err: error }, `cannot serve metrics on ${config.ANALYTICS_SERVICE_METRICS_LISTEN}`);
  process.exit(1);
});
await admin.connect();
await consumer.start().catch((error: Error) => {
  logger.fatal({ err: error }, `cannot consume ${config.ANALYTICS_TOPIC}`);
  process.exit(1);
});
health.set("SERVING");
logger.info(
  { listen: config.ANALYTICS_SERVICE_LISTEN, tls: tlsModeOf(tls), metrics: `${tls ? "https" : "http"}://${metricsServer.address}/metrics`, topic: config.ANALYTICS_TOPIC, groupId: config.ANALYTICS_GROUP_ID },
  "analytics service listening",
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  health.set("NOT_SERVING");
  logger.info({ signal }, "draining");
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => (server.forceShutdown(), resolve()), 5_000);
    server.tryShutdown(() => (clearTimeout(force), resolve()));
  });
  await consumer.stop();
  await admin.disconnect();
  await pool.end();
  metricsServer.server.close();
  logger.info("stopped");
  await shutdownTracing();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
