/**
 * hft-order-service: OrderService and MarketDataService over gRPC in front of the engine shards, and (on the replica
 * that holds the lock) the projection of each shard's events into PostgreSQL and Kafka.
 * SIGTERM/SIGINT: stop taking calls, let running ones finish, let the projection commit up to
 * the engine's sequence (bounded), flush the producer, close the engine links, exit 0.
 */
import {
  createMetricsRegistry,
  serveMetrics,
  createKafkaClient,
  createLogger,
  createPostgresPool,
  createRedisClient,
  createTokenVerifier,
  clientTlsOf,
  grpcChannelCredentials,
  listenOrExit,
  loadConfigOrExit,
  serverTlsOf,
  tlsModeOf,
  useFastProtobufText,
} from "@hft/service-kit";
import { shutdownTracing } from "@hft/otel";
import { Catalog } from "./catalog.js";
import { orderConfigShape } from "./config.js";
import { EngineLink } from "./engine-link.js";
import { defineShardInstruments } from "./instrument-sync.js";
import { OrderMetrics } from "./metrics.js";
import { OrderDesk } from "./order-desk.js";
import { OrderUpdateFeed, orderUpdatesChannel, publishOrderUpdates } from "./order-updates.js";
import { MarketData } from "./market-data.js";
import { Leadership } from "./projection/leadership.js";
import { Projector } from "./projection/projector.js";
import { ProjectionCaches } from "./projection/redis-cache.js";
import { Reads } from "./reads.js";
import { SequenceTraces } from "./sequence-traces.js";
import { createOrderServer } from "./service.js";
import { parseShards } from "./shards.js";

useFastProtobufText();
const config = loadConfigOrExit(orderConfigShape, "hft-order-service");
const logger = createLogger({ service: "order-service", level: config.LOG_LEVEL });
const shards = (() => {
  try {
    return parseShards(config.ENGINE_SHARDS);
  } catch (error) {
    logger.fatal((error as Error).message);
    process.exit(2);
  }
})();

const tls = serverTlsOf(config);
// One set of credentials for every call to the engines (links, projection, market data).
const engineCredentials = grpcChannelCredentials(clientTlsOf(config));
// Every statement of the service is short: one that waits 30 s is on a connection gone silent.
const pool = createPostgresPool({ url: config.DATABASE_URL, max: config.DATABASE_POOL_MAX, applicationName: "hft-order-service", logger, queryTimeoutMs: 30_000 });
const kafka = createKafkaClient({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-order-service`, logger });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const redis = createRedisClient({ url: config.REDIS_URL, logger });
const registry = createMetricsRegistry({ service: "order-service" });
const metrics = new OrderMetrics(registry, pool);
const catalog = new Catalog(pool);
const feed = new OrderUpdateFeed({ subscriber: createRedisClient({ url: config.REDIS_URL, logger }), channel: orderUpdatesChannel(config.REDIS_KEY_PREFIX), pool, catalog, logger });
const verify = await createTokenVerifier({
  hs256Secret: config.AUTH_HS256_SECRET,
  jwksFile: config.AUTH_JWKS_FILE,
  issuer: config.AUTH_ISSUER,
  audience: config.AUTH_AUDIENCE,
});

const links = new Map(
  shards.map((shard) => [
    shard.name,
    new EngineLink({
      shard: shard.name,
      address: shard.address,
      credentials: engineCredentials,
      onStateChange: (state, reason) => {
        logger.info({ shard: shard.name, state, reason }, "engine link");
        metrics.engineLinkUp.set({ shard: shard.name }, state === "ready" ? 1 : 0);
        updateHealth();
      },
      // Orders wait (refused as not sent) until the engine knows the shard's instruments.
      prepare: async (send) => {
        const count = await defineShardInstruments(catalog, send, shard.name);
        logger.info({ shard: shard.name, count }, "instruments defined in the engine");
      },
    }),
  ]),
);

const sequenceTraces = new SequenceTraces();
let projectors: Projector[] = [];
let caches: ProjectionCaches | undefined;
const leadership = new Leadership({
  databaseUrl: config.DATABASE_URL,
  lockKey: BigInt(config.PROJECTION_LOCK_KEY),
  logger,
  onAcquired: async () => {
    await caches?.stop(); // left by a term whose start failed
    await producer.connect();
    // The positions and open-order caches, rebuilt before the projectors start: the previous leader
    // may have died between a COMMIT and its Redis write. A Redis failure never stops the projection.
    const projectionCaches = new ProjectionCaches({ pool, redis, prefix: config.REDIS_KEY_PREFIX, shards: shards.map((s) => s.name), logger, metrics });
    caches = projectionCaches;
    await projectionCaches.start();
    projectors = shards.map(
      (shard) =>
        new Projector({
          shard: shard.name,
          engineAddress: shard.address,
          credentials: engineCredentials,
          pool,
          producer,
          topics: { orders: config.PROJECTION_ORDERS_TOPIC, executions: config.PROJECTION_EXECUTIONS_TOPIC },
          logger,
          metrics,
          sequenceTraces,
          onCommitted: (batch, names) => {
            // A lost publish is read back from PostgreSQL by every replica's feed (sequence gap).
            void publishOrderUpdates(redis, orderUpdatesChannel(config.REDIS_KEY_PREFIX), shard.name, batch, names).catch((error: unknown) => logger.warn({ shard: shard.name, err: error }, "order updates not published"));
            // A failed cache write logs a warning and sends reads to PostgreSQL until the caches are rebuilt.
            projectionCaches.write(shard.name, batch, names);
          },
        }),
    );
    await Promise.all(projectors.map((p) => p.start()));
  },
  onLost: async () => {
    await Promise.all(projectors.map((p) => p.stop()));
    projectors = [];
    await caches?.stop();
    caches = undefined;
  },
});

const desk = new OrderDesk({ pool, catalog, shards, links, metrics, sequenceTraces, redis: { client: redis, keyPrefix: config.REDIS_KEY_PREFIX } });
setInterval(() => desk.sweepRateLimiter(), 10_000).unref();
const reads = new Reads({
  pool,
  catalog,
  pageTokenKey: config.PAGE_TOKEN_KEY,
  readableAccount: (identity, requested) => desk.readableAccount(identity, requested),
  redis: { client: redis, keyPrefix: config.REDIS_KEY_PREFIX },
  metrics,
});
const marketData = new MarketData({ catalog, shards, credentials: engineCredentials });
const { server, health } = createOrderServer({ desk, reads, feed, marketData, verify, logger, registry });
// SERVING while some engine shard is reachable and the service is not draining: an order for a
// shard whose engine is down is refused with UNAVAILABLE on its own.
let stopping = false;
function updateHealth(): void {
  health.set(!stopping && [...links.values()].some((link) => link.state === "ready") ? "SERVING" : "NOT_SERVING");
}
await feed.start();
await listenOrExit(server, config.ORDER_SERVICE_LISTEN, logger, tls);
const metricsServer = await serveMetrics(registry, config.ORDER_SERVICE_METRICS_LISTEN, tls).catch((error: Error) => {
  logger.fatal({ err: error }, `cannot serve metrics on ${config.ORDER_SERVICE_METRICS_LISTEN}`);
  process.exit(1);
});
leadership.start();
updateHealth();
logger.info(
  { listen: config.ORDER_SERVICE_LISTEN, tls: tlsModeOf(tls), metrics: `${tls ? "https" : "http"}://${metricsServer.address}/metrics`, shards: shards.map((s) => `${s.name}=${s.address}`) },
  "order service listening",
);

/**
 * On the leader, waits (bounded) until each shard's projection has committed up to the engine's
 * sequence as of now, which covers every order this replica acknowledged: after a clean stop,
 * PostgreSQL and Kafka hold them even if no replica takes over soon.
 */
async function drainProjection(timeoutMs = 10_000): Promise<void> {
  // A term that is still starting (caches rebuilt, projectors subscribing) finishes first.
  await leadership.settled();
  await Promise.all(
    projectors.map(async (projector) => {
      const target = await links.get(projector.shard)?.lastSequence(5_000).catch(() => undefined);
      if (target === undefined) return logger.warn({ shard: projector.shard }, "engine sequence unknown at shutdown; the next leader projects the rest");
      if (!(await projector.caughtUp(target, timeoutMs))) {
        logger.warn({ shard: projector.shard, target: target.toString(), applied: projector.appliedSequence.toString() }, "projection not caught up at shutdown; the next leader projects the rest");
      }
    }),
  );
}

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  updateHealth();
  logger.info({ signal }, "draining");
  // Streams end first (UNAVAILABLE, so clients reconnect to another replica); unary calls finish.
  await feed.stop();
  marketData.close();
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => (server.forceShutdown(), resolve()), 5_000);
    server.tryShutdown(() => (clearTimeout(force), resolve()));
  });
  await drainProjection();
  await leadership.stop();
  await producer.disconnect();
  redis.disconnect();
  for (const link of links.values()) link.close();
  await pool.end();
  metricsServer.server.close();
  logger.info("stopped");
  await shutdownTracing();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
