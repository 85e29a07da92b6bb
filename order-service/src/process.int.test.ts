/**
 * The real order service as a child process (node + tsx on main.ts, as scripts/services.sh runs
 * it) in front of two real engine shards, with real PostgreSQL and Kafka: routing across shards,
 * a SIGKILL of the service in the middle of the order flow, and a SIGKILL of one engine.
 *
 * Isolation: every test has its own database, engines, projection lock key and accounts. The Kafka
 * topics are shared (their names are fixed), so each test names its shards with a random suffix
 * and keeps only messages whose `shard` header and account are its own.
 */
import { randomBytes, randomInt } from "node:crypto";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { createMigrator } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import {
  Execution,
  type GetOrderRequest,
  type GetOrderResponse,
  type GetPositionsRequest,
  type GetPositionsResponse,
  type ListExecutionsRequest,
  type ListExecutionsResponse,
  Order,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import { Liquidity, OrderStatus, Side } from "@hft/contract/grpc/hft/v1/types.js";
import { type EngineProcess, startEngine } from "../../tests/support/engine-process.js";
import { type EngineOrder, type EngineRecord, book, engineOrderId, engineRecord, shardInstruments, stats, timesInEngine } from "../../tests/support/engine-record.js";
import { type Outcome, call, codeCounts, crossingOrder, limitOrder, listAllOrders, orderFlow, placeOrder } from "../../tests/support/order-calls.js";
import { type KafkaMessage, readOrderTopics } from "../../tests/support/order-topics.js";
import { type LogLine, type OrderServiceProcess, startOrderService } from "../../tests/support/order-service-process.js";
import { until } from "../../tests/support/until.js";
import { EXECUTIONS_TOPIC, ORDERS_TOPIC } from "./projection/projector.js";

const UNAVAILABLE = grpc.status.UNAVAILABLE;

// ------------------------------------------------------------------------------------------------
// The platform under test: database, two engines, the service process.

interface Shard {
  readonly name: string;
  readonly firstOrderId: bigint;
  readonly instrumentId: number;
  readonly symbol: string;
  /** Replaced when the test restarts the engine. */
  engine: EngineProcess;
}

interface Platform {
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

async function engine(firstOrderId: bigint, restartOf?: EngineProcess): Promise<EngineProcess> {
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

async function startPlatform(): Promise<Platform> {
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

const instrumentsDefined = (shard: Shard) => (line: LogLine) => line.msg === "instruments defined in the engine" && line.shard === shard.name && line.count === 1;

// ------------------------------------------------------------------------------------------------
// The engines' own record, and the projection compared with it.


/**
 * Retries each failed PlaceOrder with the very same request (so the same client_order_id). One the
 * engine did apply must be answered with that order, not placed again. One it never saw may be
 * placed now (OK) or held back while its first attempt has no outcome (ABORTED, "retry shortly");
 * any other answer fails. Returns how the retries were answered. Call once the projection caught up.
 */
async function expectRetriesIdempotent(service: OrderServiceProcess, failed: readonly Outcome[], records: readonly EngineRecord[], ids: Map<string, bigint>) {
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
    else expect([grpc.status.OK, grpc.status.ABORTED], `retry of ${o.request.clientOrderId}: ${retry.code} ${retry.details}`).toContain(retry.code);
  }
  return answers;
}

async function accountIds(db: TestDatabase, ...names: string[]): Promise<Map<string, bigint>> {
  const { rows } = await db.pool.query<{ name: string; account_id: string }>("SELECT name, account_id FROM accounts WHERE name = ANY($1)", [names]);
  return new Map(rows.map((r) => [r.name, BigInt(r.account_id)]));
}

async function checkpoint(db: TestDatabase, shard: Shard): Promise<bigint> {
  const { rows } = await db.pool.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = $1", [shard.name]);
  return BigInt(rows[0]?.last_sequence ?? 0);
}

/** Waits until the shard's checkpoint in PostgreSQL equals the engine's last sequence. */
async function projectionCaughtUp(db: TestDatabase, shard: Shard, timeoutMs = 30_000): Promise<bigint> {
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
async function expectProjectionEqualsEngine(db: TestDatabase, shard: Shard, record: EngineRecord): Promise<void> {
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
    [...record.trades]
      .sort((x, y) => (x.tradeId < y.tradeId ? -1 : 1))
      .flatMap((t) => {
        const takerBuys = t.aggressorSide === Side.SIDE_BUY;
        const common = { trade_id: t.tradeId.toString(), price_ticks: t.priceTicks.toString(), lots: t.quantityLots.toString(), sequence: t.sequence.toString() };
        return [
          { ...common, liquidity: "maker", order_id: t.makerOrderId.toString(), account_id: t.makerAccountId.toString(), side: takerBuys ? "sell" : "buy" },
          { ...common, liquidity: "taker", order_id: t.takerOrderId.toString(), account_id: t.takerAccountId.toString(), side: takerBuys ? "buy" : "sell" },
        ];
      }),
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
async function expectKafkaCarriesProjection(p: Platform): Promise<number> {
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


const inRange = (shard: Shard, other: Shard, orderId: string) =>
  BigInt(orderId) >= shard.firstOrderId && (other.firstOrderId < shard.firstOrderId || BigInt(orderId) < other.firstOrderId);

describe("the order service process with two engine shards", () => {
  it("routes each instrument to its shard: order ids in the shard's range, books apart, fills and positions of both", { timeout: 120_000 }, async () => {
    const p = await startPlatform();
    const { a, b, alice, bob, service } = p;

    // On A alice rests an ask and bob takes part of it; on B the roles turn.
    const aliceAsk = await placeOrder(service, limitOrder(a.symbol, Side.SIDE_SELL, 10_000, 30, "a-ask"), alice);
    const bobBid = await placeOrder(service, limitOrder(a.symbol, Side.SIDE_BUY, 10_050, 20, "a-bid"), bob);
    const bobAsk = await placeOrder(service, limitOrder(b.symbol, Side.SIDE_SELL, 5_000, 50, "b-ask"), bob);
    const aliceBid = await placeOrder(service, limitOrder(b.symbol, Side.SIDE_BUY, 5_000, 50, "b-bid"), alice);
    expect([aliceAsk, bobBid, bobAsk, aliceBid].map((o) => o.status)).toEqual([
      OrderStatus.ORDER_STATUS_NEW,
      OrderStatus.ORDER_STATUS_FILLED,
      OrderStatus.ORDER_STATUS_NEW,
      OrderStatus.ORDER_STATUS_FILLED,
    ]);
    for (const o of [aliceAsk, bobBid]) expect(inRange(a, b, o.orderId), `order ${o.orderId} of ${a.symbol} in shard a's range`).toBe(true);
    for (const o of [bobAsk, aliceBid]) expect(inRange(b, a, o.orderId), `order ${o.orderId} of ${b.symbol} in shard b's range`).toBe(true);

    // Each engine holds its own instrument only: definitions, counters and books.
    for (const [shard, other, restingLots] of [
      [a, b, 10n],
      [b, a, 0n],
    ] as const) {
      const defined = await shardInstruments(shard.engine.client);
      expect(defined.instruments.map((i) => i.symbol)).toEqual([shard.symbol]);
      const s = await stats(shard.engine.client);
      expect(s.instruments.map((i) => ({ id: i.instrumentId, trades: i.tradesTotal }))).toEqual([{ id: shard.instrumentId, trades: 1n }]);
      const ownBook = (await book(shard.engine.client, shard.instrumentId)).book!;
      expect([...ownBook.bids, ...ownBook.asks].reduce((sum, level) => sum + level.quantityLots, 0n)).toBe(restingLots);
      await expect(book(shard.engine.client, other.instrumentId)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    }

    for (const shard of [a, b]) await projectionCaughtUp(p.db, shard);
    const listExecutions = (account: string) =>
      call<ListExecutionsRequest, ListExecutionsResponse>(
        service.client,
        service.client.listExecutions,
        { symbol: "", orderId: "", startTime: undefined, endTime: undefined, pageSize: 0, pageToken: "", account: "" },
        account,
      ).then((r) => r.executions.map((e) => ({ symbol: e.symbol, orderId: e.orderId, side: e.side, price: e.price, quantity: e.quantity, liquidity: e.liquidity })));
    const bySymbol = (x: { symbol: string }, y: { symbol: string }) => x.symbol.localeCompare(y.symbol);
    expect((await listExecutions(alice)).sort(bySymbol)).toEqual([
      { symbol: a.symbol, orderId: aliceAsk.orderId, side: Side.SIDE_SELL, price: "100", quantity: "0.002", liquidity: Liquidity.LIQUIDITY_MAKER },
      { symbol: b.symbol, orderId: aliceBid.orderId, side: Side.SIDE_BUY, price: "50", quantity: "0.005", liquidity: Liquidity.LIQUIDITY_TAKER },
    ]);
    expect((await listExecutions(bob)).sort(bySymbol)).toEqual([
      { symbol: a.symbol, orderId: bobBid.orderId, side: Side.SIDE_BUY, price: "100", quantity: "0.002", liquidity: Liquidity.LIQUIDITY_TAKER },
      { symbol: b.symbol, orderId: bobAsk.orderId, side: Side.SIDE_SELL, price: "50", quantity: "0.005", liquidity: Liquidity.LIQUIDITY_MAKER },
    ]);
    const positions = (account: string) =>
      call<GetPositionsRequest, GetPositionsResponse>(service.client, service.client.getPositions, { symbol: "", account: "" }, account).then((r) =>
        r.positions.map((x) => ({ symbol: x.symbol, net: x.netQuantity, average: x.averagePrice })).sort(bySymbol),
      );
    expect(await positions(alice)).toEqual([
      { symbol: a.symbol, net: "-0.002", average: "100" },
      { symbol: b.symbol, net: "0.005", average: "50" },
    ]);
    expect(await positions(bob)).toEqual([
      { symbol: a.symbol, net: "0.002", average: "100" },
      { symbol: b.symbol, net: "-0.005", average: "50" },
    ]);

    for (const shard of [a, b]) await expectProjectionEqualsEngine(p.db, shard, await engineRecord(shard.engine.client));
    // Kafka: each shard's messages carry its own shard header (checked against the order's instrument).
    await expectKafkaCarriesProjection(p);
  });

  it("loses and repeats nothing when the service is SIGKILLed mid-flow and restarted", { timeout: 180_000 }, async () => {
    const p = await startPlatform();
    const flow = orderFlow(() => p.service, 16, crossingOrder([p.a.symbol, p.b.symbol], p.alice, p.bob, "k"));
    // Kill once a good part of the flow went through, while the workers keep calls in flight.
    await flow.succeeded(300);
    flow.stop();
    const inFlightAtKill = flow.inFlight;
    const killed = p.service;
    expect(await killed.stop("SIGKILL")).toBeNull();
    const outcomes = await flow.settled;
    const succeeded = outcomes.filter((o) => o.order);
    console.log(`service SIGKILL: ${inFlightAtKill} calls in flight, outcomes ${JSON.stringify(codeCounts(outcomes))}`);
    expect(inFlightAtKill).toBeGreaterThan(0);
    // Only calls in flight at the kill may have failed.
    expect(outcomes.length - succeeded.length).toBeLessThanOrEqual(inFlightAtKill);
    expect(succeeded.every((o) => o.order!.status !== OrderStatus.ORDER_STATUS_REJECTED)).toBe(true);

    // Same database, engines and lock key; the projection resumes from its checkpoint.
    const restarted = await p.startService();
    await restarted.waitForLog((line) => line.msg === "projection leadership acquired");
    const records = new Map<Shard, EngineRecord>();
    for (const shard of [p.a, p.b]) {
      await projectionCaughtUp(p.db, shard);
      const record = await engineRecord(shard.engine.client);
      records.set(shard, record);
      await expectProjectionEqualsEngine(p.db, shard, record);
      expect(record.trades.length, `trades on shard ${shard.name}`).toBeGreaterThan(0);
    }

    // Every order the service confirmed is recorded, as confirmed.
    const ids = await accountIds(p.db, p.alice, p.bob);
    const { rows } = await p.db.pool.query<{ order_id: string; account_id: string; client_order_id: string }>(
      "SELECT order_id, account_id, client_order_id FROM orders WHERE order_id = ANY($1::bigint[])",
      [succeeded.map((o) => o.order!.orderId)],
    );
    const recorded = new Map(rows.map((r) => [r.order_id, r]));
    for (const o of succeeded) {
      expect(recorded.get(o.order!.orderId), `confirmed order ${o.order!.orderId} (${o.request.clientOrderId})`).toEqual({
        order_id: o.order!.orderId,
        account_id: ids.get(o.account)!.toString(),
        client_order_id: o.request.clientOrderId,
      });
    }
    const unconfirmedInEngine = outcomes
      .filter((o) => o.error)
      .filter((o) => [p.a, p.b].some((s) => timesInEngine(records.get(s)!, ids.get(o.account)!, o.request.clientOrderId) > 0)).length;
    console.log(`service SIGKILL: ${succeeded.length} confirmed orders; ${unconfirmedInEngine} of the failed calls still reached an engine`);

    const copies = await expectKafkaCarriesProjection(p);
    console.log(`service SIGKILL: ${copies} duplicate Kafka messages (same engine-sequence, same bytes)`);

    // Last, as it may place orders: the clients of the failed calls retry them.
    const retries = await expectRetriesIdempotent(restarted, outcomes.filter((o) => o.error), [...records.values()], ids);
    console.log(`service SIGKILL: retries of the failed calls ${JSON.stringify(retries)}`);
  });

  it("drains on SIGTERM under load: every call answered, every acknowledged order in PostgreSQL and Kafka before it exits", { timeout: 180_000 }, async () => {
    const p = await startPlatform();
    await p.service.waitForLog((line) => line.msg === "projection leadership acquired");
    const flow = orderFlow(() => p.service, 16, crossingOrder([p.a.symbol, p.b.symbol], p.alice, p.bob, "t"));
    await flow.succeeded(300);
    // The calls in flight at the signal go on to their outcome; no new one starts.
    const inFlightAtSignal = flow.inFlight;
    const exiting = p.service.stop("SIGTERM");
    flow.stop();
    const exitCode = await exiting;
    const outcomes = await flow.settled;
    const succeeded = outcomes.filter((o) => o.order);
    console.log(`service SIGTERM: ${inFlightAtSignal} calls in flight, outcomes ${JSON.stringify(codeCounts(outcomes))}`);
    expect(exitCode).toBe(0);
    expect(p.service.logs().some((line) => line.msg?.startsWith("projection not caught up"))).toBe(false);
    // A call the draining service did not take gets UNAVAILABLE, which says "retry elsewhere".
    expect(outcomes.filter((o) => o.error && o.error.code !== UNAVAILABLE).map((o) => `${o.error!.code} ${o.error!.details}`)).toEqual([]);
    expect(outcomes.length - succeeded.length).toBeLessThanOrEqual(inFlightAtSignal);

    // Before any restart: the checkpoint is at each engine's last sequence, and PostgreSQL and
    // Kafka hold every acknowledged order exactly once.
    const records = new Map<Shard, EngineRecord>();
    for (const shard of [p.a, p.b]) {
      const record = await engineRecord(shard.engine.client);
      records.set(shard, record);
      await expectProjectionEqualsEngine(p.db, shard, record);
    }
    const { rows } = await p.db.pool.query<{ order_id: string }>("SELECT order_id FROM orders WHERE order_id = ANY($1::bigint[])", [succeeded.map((o) => o.order!.orderId)]);
    expect(rows.length).toBe(succeeded.length);
    expect(await expectKafkaCarriesProjection(p), "Kafka copies after a clean stop").toBe(0);

    const ids = await accountIds(p.db, p.alice, p.bob);
    const restarted = await p.startService();
    const retries = await expectRetriesIdempotent(restarted, outcomes.filter((o) => o.error), [...records.values()], ids);
    console.log(`service SIGTERM: retries of the refused calls ${JSON.stringify(retries)}`);
  });

  it("answers UNAVAILABLE (or success) for calls in flight when an engine is SIGKILLed, and reconnects once it is back", { timeout: 180_000 }, async () => {
    const p = await startPlatform();
    const { a, b, alice, bob } = p;
    // Something on the book of B before the flow, and a resting order on A.
    await placeOrder(p.service, limitOrder(b.symbol, Side.SIDE_SELL, 10_000, 5, "pre-b"), alice);
    await placeOrder(p.service, limitOrder(a.symbol, Side.SIDE_SELL, 10_000, 5, "pre-a"), alice);

    const flow = orderFlow(() => p.service, 12, crossingOrder([b.symbol], alice, bob, "e"));
    await flow.succeeded(150);
    flow.stop();
    const inFlightAtKill = flow.inFlight;
    const killedEngine = b.engine;
    expect(await killedEngine.stop("SIGKILL")).toBeNull();
    const outcomes = await flow.settled;
    console.log(`engine SIGKILL: ${inFlightAtKill} calls in flight, outcomes ${JSON.stringify(codeCounts(outcomes))}`);
    expect(inFlightAtKill).toBeGreaterThan(0);
    // Never another code, never a deadline: a lost engine is UNAVAILABLE, at once.
    const refused = outcomes.filter((o) => o.error);
    expect(refused.length, "failed calls, all of them in flight at the kill").toBeLessThanOrEqual(inFlightAtKill);
    expect(refused.filter((o) => o.error!.code !== UNAVAILABLE).map((o) => `${o.request.clientOrderId}: ${o.error!.code} ${o.error!.details}`)).toEqual([]);

    // While B is down: A trades on, B is refused with UNAVAILABLE.
    expect((await placeOrder(p.service, limitOrder(a.symbol, Side.SIDE_BUY, 10_000, 2, "during-a"), bob)).status).toBe(OrderStatus.ORDER_STATUS_FILLED);
    const duringB = { account: bob, request: limitOrder(b.symbol, Side.SIDE_BUY, 9_000, 1, "during-b") };
    await expect(placeOrder(p.service, duringB.request, duringB.account)).rejects.toMatchObject({ code: UNAVAILABLE });
    refused.push(duringB);

    // Same data directory, port and first order id; the service finds it again by itself.
    const linksBefore = p.service.logs().length;
    b.engine = await engine(b.firstOrderId, killedEngine);
    let recovered: Order | undefined;
    for (let attempt = 0; !recovered; attempt++) {
      const retry = { account: bob, request: limitOrder(b.symbol, Side.SIDE_BUY, 9_000, 1, `after-b-${attempt}`) };
      try {
        recovered = await placeOrder(p.service, retry.request, retry.account);
      } catch (error) {
        expect((error as grpc.ServiceError).code).toBe(UNAVAILABLE);
        refused.push(retry);
        expect(attempt, "attempts before the service reached the restarted engine").toBeLessThan(150);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    expect(recovered.status).toBe(OrderStatus.ORDER_STATUS_NEW);
    expect(inRange(b, a, recovered.orderId)).toBe(true);
    await p.service.waitForLog((line) => line.msg === "engine link" && line.shard === b.name && line.state === "ready", { from: linksBefore });
    await p.service.waitForLog(instrumentsDefined(b), { from: linksBefore });

    // The engine's own record after its restart decides what the refused calls did.
    await projectionCaughtUp(p.db, a);
    await projectionCaughtUp(p.db, b);
    const record = await engineRecord(b.engine.client);
    await expectProjectionEqualsEngine(p.db, b, record);
    await expectProjectionEqualsEngine(p.db, a, await engineRecord(a.engine.client));
    const ids = await accountIds(p.db, alice, bob);
    for (const o of outcomes.filter((x) => x.order)) {
      expect(record.accepted.get(BigInt(o.order!.orderId))?.clientOrderId, `confirmed order ${o.order!.orderId}`).toBe(o.request.clientOrderId);
      expect(timesInEngine(record, ids.get(o.account)!, o.request.clientOrderId)).toBe(1);
    }
    // A refused order is in the engine once or not at all, and the service shows exactly that.
    const listed = new Map<string, Order[]>();
    for (const account of [alice, bob]) {
      for (const order of await listAllOrders(p.service, account, b.symbol)) listed.set(`${account}/${order.clientOrderId}`, [...(listed.get(`${account}/${order.clientOrderId}`) ?? []), order]);
    }
    let applied = 0;
    for (const o of refused) {
      const times = timesInEngine(record, ids.get(o.account)!, o.request.clientOrderId);
      expect(times, `refused ${o.request.clientOrderId} in the engine`).toBeLessThanOrEqual(1);
      const shown = listed.get(`${o.account}/${o.request.clientOrderId}`) ?? [];
      expect(shown.length, `refused ${o.request.clientOrderId} in ListOrders`).toBe(times);
      if (times === 1) {
        applied++;
        const got = await call<GetOrderRequest, GetOrderResponse>(p.service.client, p.service.client.getOrder, { orderId: shown[0]!.orderId }, o.account);
        expect(got.order?.clientOrderId).toBe(o.request.clientOrderId);
      }
    }
    console.log(`engine SIGKILL: ${refused.length} calls refused with UNAVAILABLE, ${applied} of them applied by the engine`);

    await expectKafkaCarriesProjection(p);

    // Last, as it may place orders: the clients of the refused calls retry them.
    const retries = await expectRetriesIdempotent(p.service, refused, [record], ids);
    console.log(`engine SIGKILL: retries of the refused calls ${JSON.stringify(retries)}`);
  });

  it("frees the client_order_id of an order refused before anything was sent to the engine", { timeout: 120_000 }, async () => {
    const p = await startPlatform();
    const { a, b, alice } = p;
    const killedEngine = b.engine;
    const before = p.service.logs().length;
    await killedEngine.stop("SIGKILL");
    // Once the link is down, the order is refused at once and never written to any stream.
    await p.service.waitForLog((line) => line.msg === "engine link" && line.shard === b.name && line.state === "down", { from: before });
    const request = limitOrder(b.symbol, Side.SIDE_SELL, 10_000, 1, "unsent-1");
    await expect(placeOrder(p.service, request, alice)).rejects.toMatchObject({ code: UNAVAILABLE, details: expect.stringMatching(/nothing was sent|not sent/) });

    const restartedAt = p.service.logs().length;
    b.engine = await engine(b.firstOrderId, killedEngine);
    await p.service.waitForLog(instrumentsDefined(b), { from: restartedAt });
    // The service's contract: "Never sent: the key is free again, so a retry is a first attempt".
    const retried = await placeOrder(p.service, request, alice);
    expect(retried.status).toBe(OrderStatus.ORDER_STATUS_NEW);
    expect(inRange(b, a, retried.orderId)).toBe(true);
  });
});
