import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Identity, createKafkaClient, createLogger, createMigrator, createRedisClient, kafkaConfig, loadConfig, redisConfig } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import type { EngineCommand } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { Order, type Position } from "@hft/contract/grpc/hft/v1/order_service.js";
import { Side } from "@hft/contract/grpc/hft/v1/types.js";
import { OrderFlowSession, defineBtc, limit } from "../../../tests/support/engine-commands.js";
import { type EngineProcess, startEngine } from "../../../tests/support/engine-process.js";
import { Catalog, namesOf } from "../catalog.js";
import { Reads } from "../reads.js";
import { ORDER_COLUMNS, type OrderRow } from "./apply-events.js";
import { Projector } from "./projector.js";
import { orderMessage } from "./records.js";
import { ProjectionCaches, cachedPositions, checkpointKey, openOrdersKey, positionsKey, readyKey, rebuildCaches } from "./redis-cache.js";

const logger = createLogger({ service: "redis-cache-test", level: "error" });
const SHARD = "default";
// Keys of its own: other test files use the same Redis.
const prefix = `hft-test:${process.pid}:${Date.now()}:`;
const admin: Identity = { account: "admin", role: "admin", expiresAtMs: Date.now() + 3_600_000 };

let db: TestDatabase;
let engine: EngineProcess;
let session: OrderFlowSession;
let producer: Producer;
let redis: Redis;
/** Redis as the projection's caches see it: MULTI/EXEC fails while `failing` is set. */
const flaky = { failing: false, client: undefined as unknown as Redis };
let caches: ProjectionCaches;
let projector: Projector;
let catalog: Catalog;
let fromRedis: Reads;
let fromPostgres: Reads;
let correlation = 0n;
let acks = 0;

beforeAll(async () => {
  db = await createTestDatabase("redis_cache");
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../../migrations", import.meta.url)) }).up();
  await db.pool.query("INSERT INTO accounts (name) VALUES ('alice'), ('bob'), ('carol')"); // account ids 1, 2, 3
  engine = await startEngine();
  session = new OrderFlowSession(engine.client.orderFlow());
  await send([defineBtc(++correlation), defineEth(++correlation)]);

  producer = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "redis-cache-test" }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  redis = createRedisClient({ url: loadConfig(redisConfig).REDIS_URL });
  flaky.client = new Proxy(redis, {
    get(target, property) {
      if (property === "multi" && flaky.failing) {
        return () => {
          const multi = target.multi();
          multi.exec = () => Promise.reject(new Error("injected Redis failure"));
          return multi;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });

  caches = new ProjectionCaches({ pool: db.pool, redis: flaky.client, prefix, shards: [SHARD], logger, retryMs: 100 });
  await caches.start();
  projector = new Projector({ shard: SHARD, engineAddress: engine.address, pool: db.pool, producer, logger, onCommitted: (batch, names) => caches.write(SHARD, batch, names) });
  await projector.start();

  catalog = new Catalog(db.pool);
  const readableAccount = async (identity: Identity, requested: string) => {
    const account = await catalog.account(requested || identity.account);
    if (!account) throw new Error(`no account ${requested}`);
    return account;
  };
  const options = { pool: db.pool, catalog, pageTokenKey: "page-token-key-for-tests-0123456789abcdef", readableAccount };
  fromRedis = new Reads({ ...options, redis: { client: redis, keyPrefix: prefix } });
  fromPostgres = new Reads(options);
});

afterAll(async () => {
  await projector?.stop();
  await caches?.stop();
  if (redis) {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1_000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
    redis.disconnect();
  }
  await producer?.disconnect();
  await engine?.stop("SIGKILL");
  await db?.drop();
});

function defineEth(correlationId: bigint): EngineCommand {
  return {
    correlationId,
    command: {
      $case: "defineInstrument",
      value: {
        instrumentId: 2,
        symbol: "ETH-USD",
        tickSize: "0.01",
        lotSize: "0.001",
        minQuantityLots: 1n,
        maxQuantityLots: 10_000_000n,
        priceBandLowTicks: 1n,
        priceBandHighTicks: 100_000_000n,
      },
    },
  };
}

/** A limit order on instrument 1 (BTC-USD) or 2 (ETH-USD). */
function order(spec: Parameters<typeof limit>[1] & { instrument?: number }): EngineCommand {
  const command = limit(++correlation, spec);
  if (command.command?.$case === "newOrder") command.command.value.instrumentId = spec.instrument ?? 1;
  return command;
}

function cancel(account: bigint, orderId: bigint): EngineCommand {
  return { correlationId: ++correlation, command: { $case: "cancelOrder", value: { accountId: account, orderId } } };
}

/** Sends commands, waits for their acks, the projection of their sequences and the cache write. */
async function send(commands: EngineCommand[]): Promise<bigint[]> {
  session.send(commands);
  acks += commands.length;
  const all = await session.waitForAcks(acks);
  const sent = all.slice(acks - commands.length);
  for (const ack of sent) expect(ack.rejectMessage).toBe("");
  const last = all.reduce((max, ack) => (ack.sequence > max ? ack.sequence : max), 0n);
  if (projector) await until(async () => projector.appliedSequence >= last, `sequence ${last} to be projected`);
  if (projector && !flaky.failing) await until(async () => BigInt((await redis.get(checkpointKey(prefix, SHARD))) ?? -1) >= last, `sequence ${last} in the caches`);
  return sent.map((ack) => ack.orderId);
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function pgCheckpoint(): Promise<string> {
  return (await db.pool.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = $1", [SHARD])).rows[0]!.last_sequence;
}

/** The open orders PostgreSQL holds, as the open-orders hashes should carry them, by account id. */
async function openOrdersInPostgres(): Promise<Record<string, Record<string, Order>>> {
  const { rows } = await db.pool.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.status IN ('pending_trigger', 'new', 'partially_filled')`);
  const names = await namesOf(catalog, rows);
  const byAccount: Record<string, Record<string, Order>> = {};
  for (const row of rows) (byAccount[row.account_id] ??= {})[row.order_id] = orderMessage(row, names);
  return byAccount;
}

async function openOrdersInRedis(accountIds: readonly string[]): Promise<Record<string, Record<string, Order>>> {
  const byAccount: Record<string, Record<string, Order>> = {};
  for (const id of accountIds) {
    const hash = await redis.hgetall(openOrdersKey(prefix, id));
    if (Object.keys(hash).length === 0) continue;
    byAccount[id] = Object.fromEntries(Object.entries(hash).map(([orderId, value]) => [orderId, Order.decode(Buffer.from(value, "base64"))]));
  }
  return byAccount;
}

/** GetPositions both ways, for every account and with a symbol filter; the Redis one must be served by the cache. */
async function expectSamePositions(): Promise<Record<string, Position[]>> {
  const answers: Record<string, Position[]> = {};
  for (const [id, account] of [
    [1n, "alice"],
    [2n, "bob"],
    [3n, "carol"],
  ] as const) {
    expect(await cachedPositions(redis, prefix, id)).toBeDefined();
    for (const symbol of ["", "BTC-USD", "ETH-USD"]) {
      const cached = await fromRedis.getPositions(admin, { account, symbol });
      expect(cached).toEqual(await fromPostgres.getPositions(admin, { account, symbol }));
      if (symbol === "") answers[account] = cached;
    }
  }
  return answers;
}

describe("projection caches in Redis", () => {
  let aliceAsk: bigint;
  let bobBid: bigint;

  it("shows a fill between two accounts in both positions caches, and GetPositions from Redis equals PostgreSQL", async () => {
    // The instrument definitions, sequences 1 and 2, on top of the rebuild of an empty projection.
    await until(async () => (await redis.get(checkpointKey(prefix, SHARD))) === "2", "the definitions in the caches");
    [aliceAsk, bobBid] = await send([
      order({ account: 1n, side: Side.SIDE_SELL, price: 1_000_050n, quantity: 30n, clientOrderId: "alice-ask" }),
      order({ account: 2n, side: Side.SIDE_BUY, price: 1_000_100n, quantity: 20n, clientOrderId: "bob-bid" }),
    ]) as [bigint, bigint];
    // Two ETH fills at different prices: an average with a repeating decimal, rounded as PostgreSQL rounds it.
    await send([
      order({ instrument: 2, account: 2n, side: Side.SIDE_SELL, price: 300_001n, quantity: 1n, clientOrderId: "bob-eth-1" }),
      order({ instrument: 2, account: 2n, side: Side.SIDE_SELL, price: 300_000n, quantity: 2n, clientOrderId: "bob-eth-2" }),
      order({ instrument: 2, account: 1n, side: Side.SIDE_BUY, price: 300_001n, quantity: 3n, clientOrderId: "alice-eth" }),
    ]);

    const positions = await expectSamePositions();
    expect(positions.alice!.map((p) => [p.symbol, p.netQuantity, p.averagePrice])).toEqual([
      ["BTC-USD", "-0.002", "10000.5"],
      ["ETH-USD", "0.003", "3000.003333333333333333"],
    ]);
    expect(positions.bob!.map((p) => [p.symbol, p.netQuantity, p.realizedPnl])).toEqual([
      ["BTC-USD", "0.002", "0"],
      ["ETH-USD", "-0.003", "0"],
    ]);
    expect(positions.carol).toEqual([]);
    expect(Object.keys(await redis.hgetall(positionsKey(prefix, "1"))).sort()).toEqual(["1", "2"]);
    expect(await redis.get(checkpointKey(prefix, SHARD))).toBe(await pgCheckpoint());
  });

  it("keeps open orders in the open-orders hashes and drops them once filled or cancelled", async () => {
    // alice's ask is partially filled (open); bob's bid and every ETH order are filled.
    const open = await openOrdersInRedis(["1", "2", "3"]);
    expect(Object.keys(open)).toEqual(["1"]);
    expect(Object.keys(open["1"]!)).toEqual([aliceAsk.toString()]);
    expect(open["1"]![aliceAsk.toString()]!.filledQuantity).toBe("0.002");
    expect(open).toEqual(await openOrdersInPostgres());
    expect(await redis.hexists(openOrdersKey(prefix, "2"), bobBid.toString())).toBe(0);

    const [carolBid] = (await send([order({ account: 3n, side: Side.SIDE_BUY, price: 900_000n, quantity: 5n, clientOrderId: "carol-bid" })])) as [bigint];
    expect(Object.keys(await redis.hgetall(openOrdersKey(prefix, "3")))).toEqual([carolBid.toString()]);

    // carol's bid is cancelled; alice's ask is filled by bob.
    await send([cancel(3n, carolBid), order({ account: 2n, side: Side.SIDE_BUY, price: 1_000_050n, quantity: 10n, clientOrderId: "bob-bid-2" })]);
    expect(await openOrdersInRedis(["1", "2", "3"])).toEqual({});
    expect(await openOrdersInPostgres()).toEqual({});
    await expectSamePositions();
  });

  it("rebuilds a tampered cache from PostgreSQL, with PostgreSQL's checkpoint", async () => {
    await send([order({ account: 3n, side: Side.SIDE_SELL, price: 1_100_000n, quantity: 7n, clientOrderId: "carol-ask" })]);
    const before = { alice: await redis.hgetall(positionsKey(prefix, "1")), bob: await redis.hgetall(positionsKey(prefix, "2")), open: await openOrdersInRedis(["1", "2", "3"]) };
    expect(Object.keys(before.open)).toEqual(["3"]);

    await redis.hdel(positionsKey(prefix, "1"), "1");
    await redis.hset(positionsKey(prefix, "2"), "999", "bogus");
    await redis.hset(openOrdersKey(prefix, "77"), "12345", "bogus");
    await redis.hdel(openOrdersKey(prefix, "3"), Object.keys(before.open["3"]!)[0]!);
    await redis.set(checkpointKey(prefix, SHARD), "1");
    await redis.set(checkpointKey(prefix, "gone"), "5");

    const checkpoints = await rebuildCaches(db.pool, redis, prefix, [SHARD]);
    expect(checkpoints).toEqual(new Map([[SHARD, BigInt(await pgCheckpoint())]]));
    expect(await redis.get(checkpointKey(prefix, SHARD))).toBe(await pgCheckpoint());
    expect(await redis.exists(checkpointKey(prefix, "gone"), openOrdersKey(prefix, "77"))).toBe(0);
    expect(await redis.exists(readyKey(prefix))).toBe(1);
    expect(await redis.hgetall(positionsKey(prefix, "1"))).toEqual(before.alice);
    expect(await redis.hgetall(positionsKey(prefix, "2"))).toEqual(before.bob);
    expect(await openOrdersInRedis(["1", "2", "3", "77"])).toEqual(before.open);
    expect(before.open).toEqual(await openOrdersInPostgres());
    await expectSamePositions();
  });

  it("reads PostgreSQL while the ready marker is missing", async () => {
    await redis.del(readyKey(prefix));
    await redis.hdel(positionsKey(prefix, "1"), "2"); // a cache that is wrong, but not trusted
    expect(await cachedPositions(redis, prefix, 1n)).toBeUndefined();
    const answer = await fromRedis.getPositions(admin, { account: "alice", symbol: "" });
    expect(answer.map((p) => p.symbol)).toEqual(["BTC-USD", "ETH-USD"]);
    expect(answer).toEqual(await fromPostgres.getPositions(admin, { account: "alice", symbol: "" }));

    await rebuildCaches(db.pool, redis, prefix, [SHARD]);
    await expectSamePositions();
  });

  it("stops trusting the caches when a batch cannot be written, and rebuilds them once Redis takes writes again", async () => {
    flaky.failing = true;
    await send([order({ account: 1n, side: Side.SIDE_BUY, price: 1_100_000n, quantity: 7n, clientOrderId: "alice-takes-carol" })]);
    await until(async () => (await redis.exists(readyKey(prefix))) === 0, "the ready marker to be deleted");
    expect(caches.trusted).toBe(false);
    // The failed batch is not in the cache, and reads do not use it.
    expect(await redis.get(checkpointKey(prefix, SHARD))).not.toBe(await pgCheckpoint());
    expect(await cachedPositions(redis, prefix, 1n)).toBeUndefined();
    expect(await fromRedis.getPositions(admin, { account: "carol", symbol: "" })).toEqual(await fromPostgres.getPositions(admin, { account: "carol", symbol: "" }));

    flaky.failing = false;
    await until(async () => (await redis.exists(readyKey(prefix))) === 1, "the caches to be rebuilt");
    await until(async () => caches.trusted, "the caches to be trusted again");
    expect(await redis.get(checkpointKey(prefix, SHARD))).toBe(await pgCheckpoint());
    const positions = await expectSamePositions();
    expect(positions.carol!.map((p) => [p.symbol, p.netQuantity])).toEqual([["BTC-USD", "-0.0007"]]);

    // And batches are written again.
    await send([order({ account: 3n, side: Side.SIDE_SELL, price: 1_100_000n, quantity: 1n, clientOrderId: "carol-ask-2" })]);
    expect(await openOrdersInRedis(["1", "2", "3"])).toEqual(await openOrdersInPostgres());
    await expectSamePositions();
  });
});
