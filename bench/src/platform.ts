/**
 * The order path as the harness drives it: a throwaway database (migrated, with its own
 * accounts), one fresh hft-engine per shard (journal with fdatasync, default flags), the real
 * order service process in front of them with the local stack's PostgreSQL, Redis and Kafka,
 * and beside them the bare @grpc/grpc-js echo with the same contract (the ceiling). Tracing is
 * off (OTEL_SDK_DISABLED): the figures are the service's, not the exporter's.
 */
import "../../scripts/test-env.js";
import { randomBytes, randomInt } from "node:crypto";
import { rm } from "node:fs/promises";
import * as grpc from "@grpc/grpc-js";
import { createMigrator } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { OrderServiceClient, type PlaceOrderRequest, type PlaceOrderResponse } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { type EngineProcess, startEngine } from "../../tests/support/engine-process.js";
import { bearer } from "../../tests/support/order-calls.js";
import { type OrderServiceProcess, startOrderService } from "../../tests/support/order-service-process.js";
import { startGatewayProcess } from "../../tests/support/ready-process.js";
import { type Server, root, startNodeServer, stopChild } from "./processes.js";

export interface Shard {
  readonly name: string;
  readonly engine: EngineProcess;
  /** The instrument the shard trades (one per shard). */
  readonly symbol: string;
}

export interface Platform {
  readonly db: TestDatabase;
  readonly shards: readonly Shard[];
  readonly service: OrderServiceProcess;
  /** The bare grpc-js OrderService (order-service/bench/echo-server.ts). */
  readonly echo: Server;
  readonly echoClient: OrderServiceClient;
  /** Accounts of the database, with a trader token each (the local AUTH_* settings). */
  readonly accounts: readonly string[];
  readonly tokens: readonly string[];
  /** Call metadata of account `i` (modulo the accounts). */
  metadataFor(i: number): grpc.Metadata;
  /** PlaceOrder as account `i`: a GTC buy of one lot at 90.00 unless `request` says otherwise. */
  place(i: number, request: Partial<PlaceOrderRequest>): Promise<PlaceOrderResponse>;
  /** A gateway in front of the order service (market data too), started on first use; untraced, rate limit out of the way. */
  gateway(): Promise<Server>;
  stop(): Promise<void>;
}

const ACCOUNTS = 16;
const defaultOrder: PlaceOrderRequest = {
  clientOrderId: "",
  symbol: "AAPL",
  side: Side.SIDE_BUY,
  type: OrderType.ORDER_TYPE_LIMIT,
  timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
  price: "90.00",
  stopPrice: "",
  quantity: "1",
  displayQuantity: "",
  postOnly: false,
  selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
  account: "",
};
/** The gateway's settings in every scenario: no tracing, and a rate limit no load here reaches. */
export const gatewayBenchEnv = { GATEWAY_RATE_LIMIT: "10000000", OTEL_SDK_DISABLED: "true" } as const;

/**
 * Starts the platform. One shard uses the seeded instruments (shard "default": AAPL, MSFT, ...);
 * with more, each shard gets an instrument of its own (BENCH-0, BENCH-1, ...) and its own order
 * id range, as a multi-shard deployment is configured.
 */
export async function startPlatform(shardCount: 1 | 2): Promise<Platform> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch((error: unknown) => console.error(`bench cleanup: ${(error as Error).message}`));
  };
  try {
    const suffix = randomBytes(4).toString("hex");
    const db = await createTestDatabase("bench");
    stops.push(() => db.drop());
    await createMigrator({ pool: db.pool, directory: `${root}migrations` }).up();
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `bench-${suffix}-${i}`);
    await db.pool.query("INSERT INTO accounts (name, status) SELECT unnest($1::text[]), 'active'", [accounts]);
    const tokens = await Promise.all(accounts.map((account) => bearer(account)));

    const shards: Shard[] = [];
    for (let i = 0; i < shardCount; i++) {
      const firstOrderId = BigInt(i) * 1_000_000_000_000n + 1n;
      const engine = await startEngine({ args: [`--first-order-id=${firstOrderId}`] });
      stops.push(async () => {
        await engine.stop("SIGTERM");
        await rm(engine.dataDir, { recursive: true, force: true });
      });
      const name = shardCount === 1 ? "default" : `bench-${suffix}-${i}`;
      const symbol = shardCount === 1 ? "AAPL" : `BENCH-${i}`;
      if (shardCount > 1) {
        await db.pool.query(
          `INSERT INTO instruments (instrument_id, symbol, tick_size, lot_size, min_quantity, max_quantity, price_band_low, price_band_high, shard)
           VALUES ($1, $2, 0.01, 1, 1, 1000000, 0.01, 100000, $3)`,
          [9000 + i, symbol, name],
        );
      }
      shards.push({ name, engine, symbol });
    }
    // The echo starts while the service does.
    const echoStarted = startNodeServer("order-service/bench/echo-server.ts");
    stops.push(async () => stopChild((await echoStarted).child));
    const service = await startOrderService({
      env: {
        DATABASE_URL: db.url,
        ENGINE_SHARDS: shards.map((s, i) => `${s.name}=${s.engine.address}@${BigInt(i) * 1_000_000_000_000n + 1n}`).join(","),
        PROJECTION_LOCK_KEY: String(randomInt(1_000_000, 2_000_000_000)),
        REDIS_KEY_PREFIX: `hft-bench:${suffix}:`,
        KAFKA_CLIENT_ID: `hft-bench-${suffix}`,
        OTEL_SDK_DISABLED: "true",
      },
    });
    stops.push(() => service.stop("SIGTERM"));
    const defined = shards.map((shard) => service.waitForLog((line) => line.msg === "instruments defined in the engine" && (shardCount === 1 || line.shard === shard.name)));
    await Promise.all(defined);

    const echo = await echoStarted;
    const echoClient = new OrderServiceClient(echo.address, grpc.credentials.createInsecure());
    stops.push(async () => echoClient.close());

    const metadata = tokens.map((token) => {
      const m = new grpc.Metadata();
      m.set("authorization", `Bearer ${token}`);
      return m;
    });
    let gateway: Promise<Server> | undefined;
    const startGateway = async () => {
      const started = await startGatewayProcess({ orders: service.address, analytics: service.address }, gatewayBenchEnv);
      stops.push(() => stopChild(started.child));
      return started;
    };
    const metadataFor = (i: number) => metadata[i % metadata.length]!;
    let placed = 0;
    const place = (i: number, request: Partial<PlaceOrderRequest>) =>
      new Promise<PlaceOrderResponse>((resolve, reject) =>
        service.client.placeOrder(
          { ...defaultOrder, clientOrderId: `bench-${suffix}-${placed++}`, ...request },
          metadataFor(i),
          { deadline: Date.now() + 30_000 },
          (error: grpc.ServiceError | null, response: PlaceOrderResponse) => (error ? reject(error) : resolve(response)),
        ),
      );
    return { db, shards, service, echo, echoClient, accounts, tokens, metadataFor, place, gateway: () => (gateway ??= startGateway()), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
