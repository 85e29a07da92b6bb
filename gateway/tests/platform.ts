/**
 * The platform behind a gateway under test, all real: a throwaway database with the schema, an
 * hft-engine, the order service process (OrderService and MarketDataService), the analytics
 * service process on a topic of its own, and gateways started in this process against them.
 */
import { randomBytes, randomInt } from "node:crypto";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createKafkaClient, createLogger, createMigrator, kafkaConfig, loadConfig, signDevToken } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { type EngineProcess, freePort, startEngine } from "../../tests/support/engine-process.js";
import { type OrderServiceProcess, startOrderService } from "../../tests/support/order-service-process.js";
import { type GatewayConfig, gatewayConfigShape } from "../src/config.js";
import { type RunningGateway, startGateway } from "../src/gateway.js";
import { type ServiceProcess, startServiceProcess } from "./service-process.js";

export type Role = "viewer" | "trader" | "admin";

export interface Platform {
  readonly db: TestDatabase;
  readonly engine: EngineProcess;
  readonly orders: OrderServiceProcess;
  readonly analytics: ServiceProcess;
  readonly analyticsAddress: string;
  /** Account names unique to this platform: `alice`, `bob` (traders), `vera` (viewer), `root` (admin). */
  readonly accounts: { readonly alice: string; readonly bob: string; readonly vera: string; readonly root: string };
  /** A gateway in front of the backends, with `overrides` on the test configuration. */
  startGateway(overrides?: Partial<Record<keyof GatewayConfig, string>>): Promise<RunningGateway & { url: string }>;
  token(account: string, role: Role, options?: { ttlSeconds?: number; secret?: string }): Promise<string>;
  stop(): Promise<void>;
}

const migrations = fileURLToPath(new URL("../../migrations", import.meta.url));
const logger = createLogger({ service: "gateway-test", level: "warn" });

export async function startPlatform(): Promise<Platform> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => console.error("cleanup failed:", error));
  };
  try {
    const suffix = randomBytes(4).toString("hex");
    const db = await createTestDatabase("gateway");
    cleanups.push(() => db.drop());
    await createMigrator({ pool: db.pool, directory: migrations }).up();
    const accounts = { alice: `alice-${suffix}`, bob: `bob-${suffix}`, vera: `vera-${suffix}`, root: `root-${suffix}` };
    await db.pool.query("INSERT INTO accounts (name) VALUES ($1), ($2), ($3), ($4)", Object.values(accounts));

    // The platform's executions on a topic of its own, from the projection to the analytics
    // service: the shared topic carries other tests' fills, whose numeric account ids would land
    // on this database's accounts.
    const kafka = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: `gateway-test-${suffix}` });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `gateway-test-executions-${suffix}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    });
    const engine = await startEngine();
    cleanups.push(async () => {
      await engine.stop("SIGKILL");
      await rm(engine.dataDir, { recursive: true, force: true });
    });
    const orders = await startOrderService({
      env: {
        DATABASE_URL: db.url,
        ENGINE_SHARDS: `default=${engine.address}@1`,
        PROJECTION_LOCK_KEY: String(randomInt(1, 2 ** 31 - 1)),
        PAGE_TOKEN_KEY: `page-token-key-${randomBytes(16).toString("hex")}`,
        KAFKA_CLIENT_ID: `gateway-test-${suffix}`,
        REDIS_KEY_PREFIX: `gateway-test-${suffix}:`,
        PROJECTION_EXECUTIONS_TOPIC: topic,
        DATABASE_POOL_MAX: "5",
      },
    });
    cleanups.push(() => orders.stop("SIGKILL"));
    await orders.waitForLog((line) => line.msg === "instruments defined in the engine" && line.shard === "default");

    const analyticsAddress = `127.0.0.1:${await freePort()}`;
    const analytics = await startServiceProcess(
      "analytics-service/src/main.ts",
      {
        DATABASE_URL: db.url,
        DATABASE_POOL_MAX: "3",
        ANALYTICS_SERVICE_LISTEN: analyticsAddress,
        ANALYTICS_SERVICE_METRICS_LISTEN: `127.0.0.1:${await freePort()}`,
        ANALYTICS_TOPIC: topic,
        ANALYTICS_GROUP_ID: `gateway-test-${suffix}`,
        KAFKA_CLIENT_ID: `gateway-test-${suffix}`,
      },
      "analytics service listening",
    );
    cleanups.push(() => analytics.stop("SIGKILL"));

    const base = loadConfig(gatewayConfigShape, {
      ...process.env,
      GATEWAY_LISTEN: "127.0.0.1:0",
      GATEWAY_ORDER_SERVICE: orders.address,
      GATEWAY_MARKET_DATA_SERVICE: orders.address,
      GATEWAY_ANALYTICS_SERVICE: analyticsAddress,
      GATEWAY_REDIS_KEY_PREFIX: `gateway-test-${suffix}:`,
    });
    const secret = base.AUTH_HS256_SECRET!;
    return {
      db,
      engine,
      orders,
      analytics,
      analyticsAddress,
      accounts,
      async startGateway(overrides = {}) {
        const config = loadConfig(gatewayConfigShape, {
          ...process.env,
          GATEWAY_LISTEN: "127.0.0.1:0",
          GATEWAY_ORDER_SERVICE: orders.address,
          GATEWAY_MARKET_DATA_SERVICE: orders.address,
          GATEWAY_ANALYTICS_SERVICE: analyticsAddress,
          GATEWAY_REDIS_KEY_PREFIX: `gateway-test-${suffix}-${randomBytes(3).toString("hex")}:`,
          ...overrides,
        });
        const gateway = await startGateway(config, logger);
        cleanups.push(() => gateway.close());
        return Object.assign(gateway, { url: `http://${gateway.address}` });
      },
      token: (account, role, options = {}) =>
        signDevToken({ account, role, hs256Secret: options.secret ?? secret, issuer: base.AUTH_ISSUER, audience: base.AUTH_AUDIENCE, ttlSeconds: options.ttlSeconds }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
