/**
 * The whole platform as the fault suite runs it, all real and all its own: PostgreSQL, Redis and
 * Kafka (fault-stack.ts), the schema, an hft-engine, the order service, the analytics service and
 * the gateway as processes on fixed loopback ports (so clients find each one again after its
 * restart), and toxiproxy on every link of the order service: to PostgreSQL, Redis, Kafka and the
 * engine. Logs of every process land in .run/faults/logs at the end.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import type pg from "pg";
import { createMigrator, createPostgresPool } from "@hft/service-kit";
import { OrderServiceClient } from "@hft/contract/grpc/hft/v1/order_service.js";
import { type ServiceProcess, startServiceProcess } from "../../gateway/tests/service-process.js";
import { type EngineProcess, freePort, startEngine } from "../support/engine-process.js";
import { type OrderServiceProcess, startOrderService } from "../support/order-service-process.js";
import { type FaultStack, faultRunDir, startFaultStack } from "./fault-stack.js";
import type { Channel } from "./steady-load.js";
import { type Toxiproxy, startToxiproxy } from "./toxiproxy.js";

export type Link = "postgres" | "redis" | "kafka" | "engine";
export const LINKS: readonly Link[] = ["postgres", "redis", "kafka", "engine"];
export type Part = "engine" | "orders" | "analytics" | "gateway";

export interface FaultPlatform {
  readonly stack: FaultStack;
  readonly toxiproxy: Toxiproxy;
  /** A pool straight to the database (not through the proxy), for the checks. */
  readonly pool: pg.Pool;
  /** The test's own client of the order service, across its restarts. */
  readonly client: OrderServiceClient;
  readonly addresses: { readonly orderService: string; readonly gateway: string; readonly analytics: string };
  readonly accounts: Readonly<Record<Channel, string>>;
  engine: EngineProcess;
  orders: OrderServiceProcess;
  analytics: ServiceProcess;
  gateway: ServiceProcess;
  /** SIGKILLs the part (waiting for its exit), without starting it again. */
  kill(part: Part): Promise<void>;
  /** Starts the part again, as it was (same ports, data and settings). */
  start(part: Part): Promise<void>;
  /** The service processes that exited without being stopped by the suite (a crash), with how. */
  crashed(): string[];
  stop(): Promise<void>;
}

/** Whether the process runs (Node reaps its exited children, so an exited pid is gone). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const migrations = fileURLToPath(new URL("../../migrations", import.meta.url));

export async function startFaultPlatform(): Promise<FaultPlatform> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const logs: { name: string; output: () => string }[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => console.error("fault platform cleanup failed:", error));
    await mkdir(`${faultRunDir}/logs`, { recursive: true });
    for (const { name, output } of logs) await writeFile(`${faultRunDir}/logs/${name}.log`, output());
  };
  try {
    await rm(`${faultRunDir}/logs`, { recursive: true, force: true });
    const toxiproxy = await startToxiproxy();
    cleanups.push(() => toxiproxy.stop());
    const kafkaProxyPort = await freePort();
    const stack = await startFaultStack(kafkaProxyPort);
    cleanups.push(() => stack.stop());

    const pool = createPostgresPool({ url: stack.databaseUrl, max: 4, applicationName: "hft-fault-suite" });
    cleanups.push(() => pool.end());
    await createMigrator({ pool, directory: migrations }).up();
    const suffix = randomBytes(3).toString("hex");
    const accounts = { grpc: `alice-${suffix}`, stream: `bob-${suffix}`, rest: `carol-${suffix}` };
    await pool.query("INSERT INTO accounts (name) SELECT unnest($1::text[])", [Object.values(accounts)]);

    const engineDir = `${faultRunDir}/engine`;
    await rm(engineDir, { recursive: true, force: true });
    await mkdir(engineDir, { recursive: true });
    const enginePort = await freePort();
    const proxied = {
      postgres: await toxiproxy.proxy("postgres", stack.pgAddress),
      redis: await toxiproxy.proxy("redis", stack.redisAddress),
      kafka: await toxiproxy.proxy("kafka", stack.kafkaProxied.listen, kafkaProxyPort),
      engine: await toxiproxy.proxy("engine", `127.0.0.1:${enginePort}`),
    };
    const addresses = { orderService: `127.0.0.1:${await freePort()}`, gateway: `127.0.0.1:${await freePort()}`, analytics: `127.0.0.1:${await freePort()}` };
    // Every service: no traces (nothing collects them here), its dependencies on this stack.
    const common = { OTEL_SDK_DISABLED: "true", LOG_LEVEL: "info" };
    const orderEnv = {
      ...common,
      DATABASE_URL: `postgres://hft:hft@${proxied.postgres}/hft`,
      REDIS_URL: `redis://${proxied.redis}`,
      KAFKA_BROKERS: proxied.kafka,
      ENGINE_SHARDS: `default=${proxied.engine}@1`,
      PAGE_TOKEN_KEY: `fault-suite-page-token-key-${randomBytes(16).toString("hex")}`,
      DATABASE_POOL_MAX: "10",
    };
    const analyticsEnv = async () => ({
      ...common,
      DATABASE_URL: stack.databaseUrl,
      KAFKA_BROKERS: stack.kafkaBroker,
      DATABASE_POOL_MAX: "4",
      // A killed process's partitions move after this, not after the default 30 s.
      ANALYTICS_SESSION_TIMEOUT_MS: "6000",
      ANALYTICS_SERVICE_LISTEN: addresses.analytics,
      ANALYTICS_SERVICE_METRICS_LISTEN: `127.0.0.1:${await freePort()}`,
    });
    const gatewayEnv = {
      ...common,
      REDIS_URL: stack.redisUrl,
      GATEWAY_LISTEN: addresses.gateway,
      GATEWAY_ORDER_SERVICE: addresses.orderService,
      GATEWAY_MARKET_DATA_SERVICE: addresses.orderService,
      GATEWAY_ANALYTICS_SERVICE: addresses.analytics,
      // The steady load is far above a trader's default share.
      GATEWAY_RATE_LIMIT: "10000000",
    };

    /** Parts the suite killed and has not started again. */
    const down = new Set<Part>();
    let started = 0;
    const keepLog = (name: string, output: () => string) => logs.push({ name: `${String(++started).padStart(2, "0")}-${name}`, output });
    const starters: Record<Part, () => Promise<void>> = {
      engine: async () => {
        platform.engine = await startEngine({ dataDir: engineDir, port: enginePort });
        keepLog("engine", platform.engine.output);
      },
      orders: async () => {
        platform.orders = await startOrderService({ env: orderEnv, port: Number(addresses.orderService.split(":")[1]) });
        keepLog("order-service", platform.orders.output);
        await platform.orders.waitForLog((line) => line.msg === "instruments defined in the engine");
      },
      analytics: async () => {
        platform.analytics = await startServiceProcess("analytics-service/src/main.ts", await analyticsEnv(), "analytics service listening");
        keepLog("analytics-service", platform.analytics.output);
      },
      gateway: async () => {
        platform.gateway = await startServiceProcess("gateway/src/main.ts", gatewayEnv, "gateway listening");
        keepLog("gateway", platform.gateway.output);
      },
    };
    const client = new OrderServiceClient(addresses.orderService, grpc.credentials.createInsecure());
    cleanups.push(async () => client.close());
    const platform: FaultPlatform = {
      stack,
      toxiproxy,
      pool,
      client,
      addresses,
      accounts,
      engine: undefined as unknown as EngineProcess,
      orders: undefined as unknown as OrderServiceProcess,
      analytics: undefined as unknown as ServiceProcess,
      gateway: undefined as unknown as ServiceProcess,
      async kill(part) {
        down.add(part);
        await { engine: platform.engine, orders: platform.orders, analytics: platform.analytics, gateway: platform.gateway }[part].stop("SIGKILL");
      },
      async start(part) {
        await starters[part]();
        down.delete(part);
      },
      crashed() {
        const services = { orders: platform.orders, analytics: platform.analytics, gateway: platform.gateway };
        return Object.entries(services)
          .filter(([part, service]) => !down.has(part as Part) && !running(service.pid))
          .map(([part, service]) => `the ${part} process (pid ${service.pid}) exited by itself; its log goes to ${faultRunDir}/logs`);
      },
      stop,
    };
    // Stopped in reverse: the gateway first, the engine last. Each is killed: nothing is kept.
    await starters.engine();
    cleanups.push(() => platform.engine.stop("SIGKILL"));
    await Promise.all([starters.orders(), starters.analytics()]);
    cleanups.push(() => platform.orders.stop("SIGKILL"), () => platform.analytics.stop("SIGKILL"));
    await starters.gateway();
    cleanups.push(() => platform.gateway.stop("SIGKILL"));
    return platform;
  } catch (error) {
    await stop();
    throw error;
  }
}
