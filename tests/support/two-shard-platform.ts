/**
 * The order service as a child process in front of two real engine shards, with its own database,
 * accounts, projection lock key and shard names (the Kafka topics are shared, so each platform's
 * shards carry a random suffix), and the checks its tests make: the projection against the
 * engines' own record, Kafka against the projection, retries against the engine.
 * Used by order-service/src/process.int.test.ts and process-faults.int.test.ts.
 */
import { randomBytes, randomInt } from "node:crypto";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterEach, expect } from "vitest";
import { createMigrator } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { Execution, Order } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { type EngineProcess, startEngine } from "./engine-process.js";
import { type EngineOrder, type EngineRecord, engineOrderId, executionRowsOf, stats } from "./engine-record.js";
import { type Outcome, placeOrder } from "./order-calls.js";
import { type KafkaMessage, readOrderTopics } from "./order-topics.js";
import { type LogLine, type OrderServiceProcess, startOrderService } from "./order-service-process.js";
import { until } from "./until.js";
import { EXECUTIONS_TOPIC, ORDERS_TOPIC } from "../../order-service/src/projection/projector.js";


export const UNAVAILABLE = grpc.status.UNAVAILABLE;
export const OK = grpc.status.OK;

// ------------------------------------------------------------------------------------------------
// The platform under test: database, two engines, the service process.

export interface Shard {
  readonly name: string;
  readonly firstOrderId: bigint;
  readonly instrumentId: number;
  readonly symbol: string;
  /** Replaced when the test restarts the engine. */
  engine: EngineProcess;
}

export interface Platform {
  readonly db: TestDatabase;
  readonly a: Shard;
  readonly b: Shard;
  readonly alice: string;
  readonly bob: string;
  /** The running service; replaced by `startService`. */
  service: OrderServiceProcess;
  /** Starts the service (again) with the same settings; resolves once both shards' instruments are defined. */
  startService(): Promise<OrderServiceProcess>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => console.error("cleanup failed:", error));
});

export async function engine(firstOrderId: bigint, restartOf?: EngineProcess): Promise<EngineProcess> {
  const e = await startEngine({
    args: [`--first-order-id=${firstOrderId}`],
    ...(restartOf ? { dataDir: restartOf.dataDir, port: Number(restartOf.address.split(":")[1]) } : {}),
  });
  cleanups.push(async () => {
    await e.stop("SIGKILL");
    // A restarted engine shares its data directory with the first; that one's cleanup removes it.
    if (!restartOf) await rm(e.dataDir, { recursive: true, force: true });
  });
  return e;
}

export async function startPlatform(): Promise<Platform> {
  const suffix = randomBytes(4).toString("hex");
  const db = await createTestDatabase("process");
  cleanups.push(() => db.drop());
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../migrations", import.meta.url)) }).up();

  // Shard names and account names unique to this test: the Kafka topics are shared.
  const a: Shard = { name: `a-${suffix}`, firstOrderId: 1n, instrumentId: 101, symbol: "ALPHA-USD", engine: await engine(1n) };
  const b: Shard = { name: `b-${suffix}`, firstOrderId: 1_000_000_000_000n, instrumentId: 201, symbol: "BETA-USD", engine: await engine(1_000_000_000_000n) };
  const alice = `alice-${suffix}`;
  const bob = `bob-${suffix}`;
  await db.pool.query("INSERT INTO accounts (name) VALUES ($1), ($2)", [alice, bob]);
  // Columns as in migrations/004_seed_instruments.sql; the seeded instruments stay on shard
  // 'default', which this service does not know, so only these two reach an engine.
  await db.pool.query(
    `INSERT INTO instruments (instrument_id, symbol, tick_size, lot_size, min_quantity, max_quantity, price_band_low, price_band_high, shard)
     VALUES ($1, $2, 0.01, 0.0001, 0.0001, 1000, 0.01, 10000000, $3), ($4, $5, 0.01, 0.0001, 0.0001, 1000, 0.01, 10000000, $6)`,
    [a.instrumentId, a.symbol, a.name, b.instrumentId, b.symbol, b.name],
  );

  const env = {
    DATABASE_URL: db.url,
    ENGINE_SHARDS: `${a.name}=${a.engine.address}@${a.firstOrderId},${b.name}=${b.engine.address}@${b.firstOrderId}`,
    PROJECTION_LOCK_KEY: String(randomInt(1, 2 ** 31 - 1)),
    PAGE_TOKEN_KEY: `page-token-key-${randomBytes(16).toString("hex")}`,
    KAFKA_CLIENT_ID: `process-test-${suffix}`,
    // Redis (REDIS_URL comes from the environment) is shared too: cached PlaceOrder answers are
    // keyed by the numeric account id, which every test database starts again at 1.
    REDIS_KEY_PREFIX: `process-test-${suffix}:`,
    DATABASE_POOL_MAX: "10",
  };
  const platform: Platform = {
    db,
    a,
    b,
    alice,
    bob,
    service: undefined as unknown as OrderServiceProcess,
    async startService() {
      const service = await startOrderService({ env });
      cleanups.push(() => service.stop("SIGKILL"));
      platform.service = service;
      // The service defines each shard's instruments when its link comes up and refuses orders
      // for the shard (UNAVAILABLE, not sent) until then.
      await Promise.all([a, b].map((shard) => service.waitForLog(instrumentsDefined(shard))));
      return service;
    },
  };
  await platform.startService();
  return platform;
}

export const instrumentsDefined = (shard: Shard) => (line: LogLine) => line.msg === "instruments defined in the engine" && line.shard === shard.name && line.count === 1;

// ------------------------------------------------------------------------------------------------
// The engines' own record, and the projection compared with it.


/**
 * Retries each failed PlaceOrder with the very same request (so the same client_order_id). One the
 * engine did apply must be answered with that order, not placed again. One it never saw must get
 * one of `neverApplied`: placed now (OK), or, by default, also held back while its first attempt
 * has no outcome (ABORTED, "retry shortly"); any other answer fails. Returns how the retries were
 * answered. Call once the projection caught up.
 */
export async function expectRetriesIdempotent(
  service: OrderServiceProcess,
  failed: readonly Outcome[],
  records: readonly EngineRecord[],
  ids: Map<string, bigint>,
  neverApplied: readonly grpc.status[] = [grpc.status.OK, grpc.status.ABORTED],
) {
  const answers: Record<string, number> = {};
  for (const o of failed) {
    const applied = engineOrderId(records, ids.get(o.account)!, o.request.clientOrderId);
    const retry = await placeOrder(service, o.request, o.account).then(
      (order) => ({ order, code: grpc.status.OK, details: "" }),
      (error: grpc.ServiceError) => ({ order: undefined, code: error.code, details: error.details }),
    );
    const answer = `${applied === undefined ? "never applied" : "applied"}: ${grpc.status[retry.code]}`;
    answers[answer] = (answers[answer] ?? 0) + 1;
    if (applied !== undefined) expect(retry.order?.orderId, `retry of ${o.request.clientOrderId}, which the engine applied as ${applied}`).toBe(applied.toString());
    else expect(neverApplied, `retry of ${o.request.clientOrderId}: ${retry.code} ${retry.details}`).toContain(retry.code);
  }
  return answers;
}

export async function accountIds(db: TestDatabase, ...names: string[]): Promise<Map<string, bigint>> {
  const { rows } = await db.pool.query<{ name: string; account_id: string }>("SELECT name, account_id FROM accounts WHERE name = ANY($1)", [names]);
  return new Map(rows.map((r) => [r.name, BigInt(r.account_id)]));
}

async function checkpoint(db: TestDatabase, shard: Shard): Promise<bigint> {
  const { rows } = await db.pool.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = $1", [shard.name]);
  return BigInt(rows[0]?.last_sequence ?? 0);
}

/** Waits until the shard's checkpoint in PostgreSQL equals the engine's last sequence. */
export async function projectionCaughtUp(db: TestDatabase, shard: Shard, timeoutMs = 30_000): Promise<bigint> {
  let engineAt = 0n;
  let projectedAt = 0n;
  await until(
    async () => {
      engineAt = (await stats(shard.engine.client)).lastSequence;
      projectedAt = await checkpoint(db, shard);
      return engineAt === projectedAt && engineAt > 0n;
    },
    () => `the projection of shard ${shard.name} to reach the engine (engine at ${engineAt}, checkpoint at ${projectedAt})`,
    timeoutMs,
  );
  return engineAt;
}

/**
 * PostgreSQL holds exactly the engine's record of the shard: every accepted order once with the
 * filled quantity the trades give it, both sides of every trade once, positions as the trades
 * add up, and the checkpoint at the engine's last sequence. Call after `projectionCaughtUp`.
 */
export async function expectProjectionEqualsEngine(db: TestDatabase, shard: Shard, record: EngineRecord): Promise<void> {
  const orders = await db.pool.query(
    `SELECT o.order_id, o.account_id, o.client_order_id, o.instrument_id, round(o.filled_quantity / i.lot_size)::bigint::text AS filled_lots, o.status
       FROM orders o JOIN instruments i USING (instrument_id) WHERE i.shard = $1 ORDER BY o.order_id`,
    [shard.name],
  );
  const status = (o: EngineOrder) => (o.filledLots === o.quantityLots ? "filled" : o.cancelled ? "cancelled" : o.filledLots > 0n ? "partially_filled" : "new");
  expect(orders.rows).toEqual(
    [...record.accepted.values()]
      .sort((x, y) => (x.orderId < y.orderId ? -1 : 1))
      .map((o) => ({
        order_id: o.orderId.toString(),
        account_id: o.accountId.toString(),
        client_order_id: o.clientOrderId,
        instrument_id: o.instrumentId,
        filled_lots: o.filledLots.toString(),
        status: status(o),
      })),
  );

  const executions = await db.pool.query(
    `SELECT e.trade_id, e.liquidity, e.order_id, e.account_id, e.side, round(e.price / i.tick_size)::bigint::text AS price_ticks,
            round(e.quantity / i.lot_size)::bigint::text AS lots, e.sequence
       FROM executions e JOIN instruments i USING (instrument_id) WHERE i.shard = $1 ORDER BY e.trade_id, e.liquidity`,
    [shard.name],
  );
  // One row per side of a trade: the maker's and the taker's (PRIMARY KEY (trade_id, liquidity)).
  expect(executions.rows).toEqual(
    executionRowsOf(record.trades),
  );

  const net = new Map<string, bigint>();
  for (const t of record.trades) {
    const buyer = t.aggressorSide === Side.SIDE_BUY ? t.takerAccountId : t.makerAccountId;
    const seller = t.aggressorSide === Side.SIDE_BUY ? t.makerAccountId : t.takerAccountId;
    net.set(buyer.toString(), (net.get(buyer.toString()) ?? 0n) + t.quantityLots);
    net.set(seller.toString(), (net.get(seller.toString()) ?? 0n) - t.quantityLots);
  }
  const positions = await db.pool.query(
    `SELECT p.account_id, round(p.net_quantity / i.lot_size)::bigint::text AS net_lots
       FROM positions p JOIN instruments i USING (instrument_id) WHERE i.shard = $1 ORDER BY p.account_id`,
    [shard.name],
  );
  expect(positions.rows).toEqual([...net.entries()].sort(([x], [y]) => Number(BigInt(x) - BigInt(y))).map(([account_id, lots]) => ({ account_id, net_lots: lots.toString() })));

  expect(await checkpoint(db, shard)).toBe(record.lastSequence);
  // The engine never took one (account, client order id) twice: the service sent each order once.
  const keys = [...record.accepted.values(), ...record.rejected.values()].map((o) => `${o.accountId}/${o.clientOrderId}`);
  expect(keys.length - new Set(keys).size, "orders the engine took twice under one client order id").toBe(0);
}

// ------------------------------------------------------------------------------------------------
// Kafka.


interface ProjectedOrder {
  order_id: string;
  last_sequence: string;
  status: string;
  filled_quantity: string;
  shard: string;
}
interface ProjectedExecution {
  trade_id: string;
  order_id: string;
  sequence: string;
  shard: string;
}

const statusOf: Record<string, OrderStatus> = {
  pending_trigger: OrderStatus.ORDER_STATUS_PENDING_TRIGGER,
  new: OrderStatus.ORDER_STATUS_NEW,
  partially_filled: OrderStatus.ORDER_STATUS_PARTIALLY_FILLED,
  filled: OrderStatus.ORDER_STATUS_FILLED,
  cancelled: OrderStatus.ORDER_STATUS_CANCELLED,
  rejected: OrderStatus.ORDER_STATUS_REJECTED,
  expired: OrderStatus.ORDER_STATUS_EXPIRED,
};

/**
 * Kafka carries every order state and execution PostgreSQL holds for the test's shards: after
 * de-duplicating on (engine-sequence, id) nothing is missing, nothing is unknown, and copies of one
 * (engine-sequence, id) are byte-identical (a replayed batch). Returns the number of copies.
 */
export async function expectKafkaCarriesProjection(p: Platform): Promise<number> {
  const shards = [p.a, p.b];
  const orders = await p.db.pool.query<ProjectedOrder>(
    `SELECT o.order_id, o.last_sequence, o.status, o.filled_quantity::text, i.shard FROM orders o JOIN instruments i USING (instrument_id) WHERE i.shard = ANY($1)`,
    [shards.map((s) => s.name)],
  );
  const executions = await p.db.pool.query<ProjectedExecution>(
    `SELECT e.trade_id, e.order_id, e.sequence, i.shard FROM executions e JOIN instruments i USING (instrument_id) WHERE i.shard = ANY($1)`,
    [shards.map((s) => s.name)],
  );
  // Each order's last state (its row's last_sequence) must be there; earlier states may be
  // collapsed into it (one message per order per batch).
  const expected = new Set([
    ...orders.rows.map((o) => `${ORDERS_TOPIC} ${o.last_sequence}/${o.order_id}`),
    ...executions.rows.map((e) => `${EXECUTIONS_TOPIC} ${e.sequence}/${e.trade_id}/${e.order_id}`),
  ]);
  const keyOf = (m: KafkaMessage) => `${m.topic} ${m.sequence}/${m.id}`;
  const messages = await readOrderTopics(shards.map((s) => s.name), [p.alice, p.bob], (seen) => {
    const keys = new Set(seen.map(keyOf));
    return [...expected].every((k) => keys.has(k));
  });

  const byKey = new Map<string, KafkaMessage[]>();
  for (const m of messages) byKey.set(keyOf(m), [...(byKey.get(keyOf(m)) ?? []), m]);
  expect([...expected].filter((k) => !byKey.has(k)), "order states and executions missing from Kafka").toEqual([]);

  const ordersById = new Map(orders.rows.map((o) => [o.order_id, o]));
  const executionIds = new Set(executions.rows.map((e) => `${e.trade_id}/${e.order_id}`));
  let copies = 0;
  for (const [key, group] of byKey) {
    copies += group.length - 1;
    // A copy may only come from a batch published again after a crash: same sequence, same bytes.
    for (const m of group) expect(m.value.equals(group[0]!.value), `copies of ${key} differ`).toBe(true);
    const m = group[0]!;
    if (m.topic === ORDERS_TOPIC) {
      const order = Order.decode(m.value);
      const row = ordersById.get(order.orderId);
      expect(row, `Kafka has order ${order.orderId}, PostgreSQL does not`).toBeDefined();
      expect({ shard: m.shard, header: m.protoMessage, sequence: order.sequence }).toEqual({ shard: row!.shard, header: "hft.v1.Order", sequence: m.sequence });
      expect(m.sequence).toBeLessThanOrEqual(BigInt(row!.last_sequence));
      if (m.sequence === BigInt(row!.last_sequence)) {
        expect({ status: order.status, filled: Number(order.filledQuantity) }).toEqual({ status: statusOf[row!.status], filled: Number(row!.filled_quantity) });
      }
    } else {
      const execution = Execution.decode(m.value);
      expect(executionIds.has(m.id), `Kafka has execution ${m.id}, PostgreSQL does not`).toBe(true);
      expect({ header: m.protoMessage, sequence: execution.sequence }).toEqual({ header: "hft.v1.Execution", sequence: m.sequence });
    }
  }
  return copies;
}

// ------------------------------------------------------------------------------------------------


export const inRange = (shard: Shard, other: Shard, orderId: string) =>
  BigInt(orderId) >= shard.firstOrderId && (other.firstOrderId < shard.firstOrderId || BigInt(orderId) < other.firstOrderId);

