import { execFile } from "node:child_process";
import type { MetricsRegistry } from "@hft/service-kit";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import {
  createKafkaClient,
  createLogger,
  createMetricsRegistry,
  createMigrator,
  createRedisClient,
  createTokenVerifier,
  kafkaConfig,
  loadConfig,
  redisConfig,
  signDevToken,
} from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import {
  type CancelAllOrdersRequest,
  type CancelAllOrdersResponse,
  type CancelOrderRequest,
  type CancelOrderResponse,
  type GetOrderRequest,
  type GetOrderResponse,
  type GetPositionsRequest,
  type GetPositionsResponse,
  type ListExecutionsRequest,
  type ListExecutionsResponse,
  type ListOrdersRequest,
  type ListOrdersResponse,
  type Order,
  type OrderEntryRequest,
  type OrderEntryResponse,
  OrderServiceClient,
  type PlaceOrderRequest,
  type PlaceOrderResponse,
  type ReplaceOrderRequest,
  type ReplaceOrderResponse,
  type StreamOrderUpdatesResponse,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { type EngineProcess, freePort, startEngine } from "../../tests/support/engine-process.js";
import { Catalog } from "./catalog.js";
import { EngineLink } from "./engine-link.js";
import { defineShardInstruments } from "./instrument-sync.js";
import { OrderMetrics } from "./metrics.js";
import { requestHash } from "./client-order-ids.js";
import { OrderDesk } from "./order-desk.js";
import { OrderUpdateFeed, orderUpdatesChannel, publishOrderUpdates } from "./order-updates.js";
import { Reads } from "./reads.js";
import { MarketData } from "./market-data.js";
import { Projector } from "./projection/projector.js";
import { createOrderServer } from "./service.js";
import { parseShards } from "./shards.js";

const run = promisify(execFile);
const secret = "order-service-test-secret-at-least-32-bytes";
const issuer = "hft-test";
const audience = "hft";
const logger = createLogger({ service: "order-service-test", level: "warn" });

let db: TestDatabase;
let engine: EngineProcess;
let link: EngineLink;
let projector: Projector;
let producer: Producer;
let server: grpc.Server;
let client: OrderServiceClient;
let redis: Redis;
let redisKeyPrefix: string;
let registry: MetricsRegistry;
let address: string;
let feed: OrderUpdateFeed;
/** Set by a test to lose the next batch's publish, as a leader dying after COMMIT would. */
let dropNextPublish = false;

const token = (account: string, role: "viewer" | "trader" | "admin" = "trader") => signDevToken({ account, role, hs256Secret: secret, issuer, audience });

async function metadataFor(account: string, role?: "viewer" | "trader" | "admin"): Promise<grpc.Metadata> {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${await token(account, role)}`);
  return metadata;
}
type Unary<Req, Res> = (request: Req, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: Res) => void) => grpc.ClientUnaryCall;
async function call<Req, Res>(method: Unary<Req, Res>, request: Req, account: string, role?: "viewer" | "trader" | "admin"): Promise<Res> {
  const metadata = await metadataFor(account, role);
  return new Promise((resolve, reject) => method.call(client, request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}
const place = (request: Partial<PlaceOrderRequest>, account = "alice", role?: "viewer" | "trader" | "admin") =>
  call<PlaceOrderRequest, PlaceOrderResponse>(client.placeOrder, { ...limitOrder, ...request }, account, role).then((r) => r.order as Order);

const limitOrder: PlaceOrderRequest = {
  clientOrderId: "c-1",
  symbol: "BTC-USD",
  side: Side.SIDE_SELL,
  type: OrderType.ORDER_TYPE_LIMIT,
  timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
  price: "10000.50",
  stopPrice: "",
  quantity: "0.003",
  displayQuantity: "",
  postOnly: false,
  selfTradePrevention: SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED,
  account: "",
};

beforeAll(async () => {
  db = await createTestDatabase("orders");
  await createMigrator({ pool: db.pool, directory: fileURLToPath(new URL("../../migrations", import.meta.url)) }).up();
  await db.pool.query("INSERT INTO accounts (name, status) VALUES ('alice', 'active'), ('bob', 'active'), ('carol', 'suspended'), ('dave', 'active'), ('erin', 'active')");
  engine = await startEngine();
  const shards = parseShards(`default=${engine.address}@1`);
  link = new EngineLink({ shard: "default", address: engine.address });
  await link.ready();
  const catalog = new Catalog(db.pool);
  await defineShardInstruments(catalog, (command) => link.submit(command), "default");
  producer = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "order-service-test" }).producer({ idempotent: true });
  await producer.connect();
  // Redis keys and channels of its own: other test files use Redis too.
  redisKeyPrefix = `hft-test:${process.pid}:${Date.now()}:`;
  const channel = orderUpdatesChannel(redisKeyPrefix);
  const redisUrl = loadConfig(redisConfig).REDIS_URL;
  redis = createRedisClient({ url: redisUrl });
  feed = new OrderUpdateFeed({ subscriber: createRedisClient({ url: redisUrl }), channel, pool: db.pool, catalog, logger });
  await feed.start();
  projector = new Projector({
    shard: "default",
    engineAddress: engine.address,
    pool: db.pool,
    producer,
    logger,
    onCommitted: (batch, names) => {
      if (dropNextPublish) dropNextPublish = false;
      else void publishOrderUpdates(redis, channel, "default", batch, names);
    },
  });
  await projector.start();

  registry = createMetricsRegistry({ service: "order-service-test", processMetrics: false });
  const desk = new OrderDesk({
    pool: db.pool,
    catalog,
    shards,
    links: new Map([["default", link]]),
    redis: { client: redis, keyPrefix: redisKeyPrefix },
    metrics: new OrderMetrics(registry, db.pool),
  });
  const reads = new Reads({ pool: db.pool, catalog, pageTokenKey: "page-token-key-for-tests-0123456789abcdef", readableAccount: (i, a) => desk.readableAccount(i, a) });
  const verify = await createTokenVerifier({ hs256Secret: secret, issuer, audience });
  const created = createOrderServer({ desk, reads, feed, marketData: new MarketData({ catalog, shards }), verify, logger, registry });
  server = created.server;
  created.health.set("SERVING");
  address = `127.0.0.1:${await freePort()}`;
  await new Promise<void>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  client = new OrderServiceClient(address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  await projector?.stop();
  await feed?.stop();
  redis?.disconnect();
  link?.close();
  await producer?.disconnect();
  await engine?.stop("SIGKILL");
  await db?.drop();
});

describe("OrderService over gRPC", () => {
  it("places an order through the engine and answers with its durable state", async () => {
    const order = await place({ clientOrderId: "ask-1" });
    expect(order).toMatchObject({
      clientOrderId: "ask-1",
      account: "alice",
      symbol: "BTC-USD",
      status: OrderStatus.ORDER_STATUS_NEW,
      price: "10000.5",
      quantity: "0.003",
      filledQuantity: "0",
      remainingQuantity: "0.003",
    });
    expect(BigInt(order.orderId)).toBeGreaterThan(0n);
    expect(order.sequence).toBeGreaterThan(0n);
  });

  it("fills against another account, and shows both sides their own order only", async () => {
    const ask = await place({ clientOrderId: "ask-2", price: "10010" });
    const bid = await place({ clientOrderId: "bid-2", side: Side.SIDE_BUY, price: "10020", quantity: "0.002" }, "bob");
    expect(bid).toMatchObject({ status: OrderStatus.ORDER_STATUS_FILLED, filledQuantity: "0.002", averageFillPrice: "10000.5", remainingQuantity: "0" });

    const seenByAlice = await call<GetOrderRequest, GetOrderResponse>(client.getOrder, { orderId: ask.orderId }, "alice");
    expect(seenByAlice.order?.clientOrderId).toBe("ask-2");
    await expect(call(client.getOrder, { orderId: ask.orderId }, "bob")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: `order ${ask.orderId} does not exist for account bob` });
    const seenByAdmin = await call<GetOrderRequest, GetOrderResponse>(client.getOrder, { orderId: ask.orderId }, "ops", "admin");
    expect(seenByAdmin.order?.account).toBe("alice");
  });

  it("answers a retry with the original order and refuses the same client_order_id for another order", async () => {
    const first = await place({ clientOrderId: "retry-1", price: "10100" });
    const again = await place({ clientOrderId: "retry-1", price: "10100" });
    expect(again).toEqual(first);
    await expect(place({ clientOrderId: "retry-1", price: "10200" })).rejects.toMatchObject({
      code: grpc.status.ALREADY_EXISTS,
      details: "client_order_id retry-1 was already used by account alice for a different order",
    });
  });

  it("answers a retry from Redis, and lets a retry take over a claim its crashed request left behind", async () => {
    const first = await place({ clientOrderId: "cached-1", price: "10800" });
    const aliceId = (await db.pool.query<{ account_id: string }>("SELECT account_id FROM accounts WHERE name = 'alice'")).rows[0]!.account_id;
    const cached = await redis.get(`${redisKeyPrefix}order-answer:v1:${aliceId}:cached-1`);
    expect(JSON.parse(cached ?? "{}")).toEqual({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), order: expect.any(String) });
    // Were PostgreSQL asked, this hash would refuse the retry: the answer comes from Redis.
    await db.pool.query("UPDATE idempotency_keys SET request_hash = 'not-this-request' WHERE client_order_id = 'cached-1'");
    expect(await place({ clientOrderId: "cached-1", price: "10800" })).toEqual(first);
    await expect(place({ clientOrderId: "cached-1", price: "10801" })).rejects.toMatchObject({ code: grpc.status.ALREADY_EXISTS });

    // A claim with no answer and no order: in flight while recent, abandoned once old.
    const claimNow = { ...limitOrder, clientOrderId: "claimed-now", price: "10802" };
    const claimLongAgo = { ...limitOrder, clientOrderId: "claimed-long-ago", price: "10803" };
    await db.pool.query(
      `INSERT INTO idempotency_keys (account_id, client_order_id, request_hash, created_at)
       VALUES ($1, 'claimed-now', $2, now()), ($1, 'claimed-long-ago', $3, now() - interval '10 minutes')`,
      [aliceId, requestHash(claimNow, "alice"), requestHash(claimLongAgo, "alice")],
    );
    await expect(place(claimNow)).rejects.toMatchObject({ code: grpc.status.ABORTED, details: expect.stringContaining("no outcome yet") });
    // Old, but while the record is behind the engine the dead request may still show up: not taken over.
    const { rows: checkpoint } = await db.pool.query<{ last_sequence: string }>("SELECT last_sequence FROM engine_checkpoints WHERE shard = 'default'");
    await db.pool.query("UPDATE engine_checkpoints SET last_sequence = 0 WHERE shard = 'default'");
    await expect(place(claimLongAgo)).rejects.toMatchObject({ code: grpc.status.ABORTED, details: expect.stringContaining("has not caught up with engine shard default") });
    await db.pool.query("UPDATE engine_checkpoints SET last_sequence = $1 WHERE shard = 'default'", [checkpoint[0]!.last_sequence]);
    expect((await place(claimLongAgo)).status).toBe(OrderStatus.ORDER_STATUS_NEW);
  });

  it("lets a retry take over at once a claim whose order went to an engine process since replaced, once the record shows it never arrived", async () => {
    const aliceId = (await db.pool.query<{ account_id: string }>("SELECT account_id FROM accounts WHERE name = 'alice'")).rows[0]!.account_id;
    const { instance } = await link.head();
    const sameEngine = { ...limitOrder, clientOrderId: "in-doubt-same-engine", price: "10804" };
    const goneEngine = { ...limitOrder, clientOrderId: "in-doubt-gone-engine", price: "10805" };
    await db.pool.query(
      `INSERT INTO idempotency_keys (account_id, client_order_id, request_hash, engine_instance)
       VALUES ($1, 'in-doubt-same-engine', $2, $4), ($1, 'in-doubt-gone-engine', $3, $4 + 1)`,
      [aliceId, requestHash(sameEngine, "alice"), requestHash(goneEngine, "alice"), instance.toString()],
    );
    // The process that took it still runs: the order may yet be sequenced, so it is still in flight.
    await expect(place(sameEngine)).rejects.toMatchObject({ code: grpc.status.ABORTED, details: expect.stringContaining("no outcome yet") });
    // That process is gone, but the record does not yet hold what this engine recovered at start
    // (here: no checkpoint at all): the order may still show up.
    const { rows: checkpoint } = await db.pool.query<{ last_sequence: string }>("DELETE FROM engine_checkpoints WHERE shard = 'default' RETURNING last_sequence");
    await expect(place(goneEngine)).rejects.toMatchObject({ code: grpc.status.ABORTED, details: expect.stringContaining("has not caught up with engine shard default") });
    await db.pool.query("INSERT INTO engine_checkpoints (shard, last_sequence) VALUES ('default', $1)", [checkpoint[0]!.last_sequence]);
    // Two retries at once: one places the order, the other is told to retry (or gets the answer).
    const answers = await Promise.allSettled([place(goneEngine), place(goneEngine)]);
    const placed = answers.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    const refused = answers.flatMap((a) => (a.status === "rejected" ? [(a.reason as grpc.ServiceError).code] : []));
    expect([new Set(placed.map((o) => o.orderId)).size, placed[0]?.status, refused.every((code) => code === grpc.status.ABORTED)]).toEqual([1, OrderStatus.ORDER_STATUS_NEW, true]);
    await waitForProjection("in-doubt-gone-engine", "alice");
    // One order, and its claim an ordinary answered one again.
    const sql = "SELECT k.engine_instance, k.response IS NOT NULL AS answered, (SELECT count(*)::int FROM orders o WHERE o.client_order_id = k.client_order_id) AS orders";
    expect((await db.pool.query(`${sql} FROM idempotency_keys k WHERE k.client_order_id = 'in-doubt-gone-engine'`)).rows).toEqual([{ engine_instance: null, answered: true, orders: 1 }]);
  });

  it("cancels and replaces an open order", async () => {
    const order = await place({ clientOrderId: "amend-1", price: "10300", quantity: "0.005" });
    const replaced = await call<ReplaceOrderRequest, ReplaceOrderResponse>(client.replaceOrder, { orderId: order.orderId, price: "10350", quantity: "0.004" }, "alice");
    expect(replaced.order).toMatchObject({ price: "10350", quantity: "0.004", status: OrderStatus.ORDER_STATUS_NEW });
    const cancelled = await call<CancelOrderRequest, CancelOrderResponse>(client.cancelOrder, { orderId: order.orderId }, "alice");
    expect(cancelled.order).toMatchObject({ status: OrderStatus.ORDER_STATUS_CANCELLED, remainingQuantity: "0" });
    await expect(call(client.cancelOrder, { orderId: order.orderId }, "alice")).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: `order ${order.orderId} is no longer open`,
    });
  });

  it("refuses bad input, naming the field", async () => {
    await expect(place({ clientOrderId: "bad-1", price: "10000.005" })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining("price"),
    });
    await expect(place({ clientOrderId: "bad-2", quantity: "abc" })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^quantity: /) });
    await expect(place({ clientOrderId: "bad-3", type: OrderType.ORDER_TYPE_MARKET })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: "price must be empty for market and stop orders",
    });
    await expect(place({ clientOrderId: "bad-4", symbol: "DOGE-USD" })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: "symbol DOGE-USD is not listed" });
  });

  it("refuses what the account's risk limits forbid, naming the rule, and frees the client_order_id", async () => {
    await db.pool.query("INSERT INTO risk_limits (account_id, max_order_quantity, price_collar_bps) SELECT account_id, 0.01, 500 FROM accounts WHERE name = 'alice'");
    try {
      const refused = place({ clientOrderId: "risk-1", quantity: "0.02" });
      await expect(refused).rejects.toMatchObject({
        code: grpc.status.FAILED_PRECONDITION,
        details: "risk rule max_order_quantity: quantity 0.02 exceeds max_order_quantity 0.01",
      });
      const error = (await refused.then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      ))!;
      expect(error.metadata.get("hft-reason")).toEqual(["RISK_MAX_QUANTITY"]);
      // The last trade was at 10000.5: 5% either side is the collar.
      await expect(place({ clientOrderId: "risk-2", price: "11000" })).rejects.toMatchObject({ details: expect.stringMatching(/^risk rule price_collar: /) });
      // Nothing was sent, so the same client_order_id may carry the corrected order.
      expect((await place({ clientOrderId: "risk-1", quantity: "0.01", price: "10400" })).status).toBe(OrderStatus.ORDER_STATUS_NEW);

      await db.pool.query("UPDATE risk_limits SET kill_switch = true WHERE account_id = (SELECT account_id FROM accounts WHERE name = 'alice')");
      await expect(place({ clientOrderId: "risk-3", price: "10400" })).rejects.toMatchObject({ details: "risk rule kill_switch: kill_switch is on: the account may not place new orders" });
    } finally {
      await db.pool.query("DELETE FROM risk_limits");
    }
  });

  it("checks who may act for which account", async () => {
    await expect(place({ clientOrderId: "x-1", account: "bob" })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: "alice may not act for account bob; only admins act for other accounts",
    });
    await expect(place({ clientOrderId: "x-2" }, "alice", "viewer")).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    await expect(place({ clientOrderId: "x-3" }, "carol")).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: "account carol is suspended" });
    const forBob = await place({ clientOrderId: "x-4", account: "bob", price: "10500" }, "ops", "admin");
    expect(forBob.account).toBe("bob");
    await expect(
      new Promise((resolve, reject) => client.placeOrder({ ...limitOrder, clientOrderId: "x-5" }, (e, r) => (e ? reject(e) : resolve(r)))),
    ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it("lists orders newest first, page by page, with tokens bound to their filters", async () => {
    for (let n = 0; n < 5; n++) await place({ clientOrderId: `page-${n}`, price: `${10_600 + n}` }, "bob");
    const listRequest: ListOrdersRequest = { symbol: "BTC-USD", statuses: [OrderStatus.ORDER_STATUS_NEW], side: Side.SIDE_SELL, startTime: undefined, endTime: undefined, pageSize: 2, pageToken: "", account: "" };
    await waitForProjection(`page-4`, "bob");
    const seen: string[] = [];
    let request = listRequest;
    for (let pages = 0; pages < 10; pages++) {
      const page = await call<ListOrdersRequest, ListOrdersResponse>(client.listOrders, request, "bob");
      seen.push(...page.orders.map((o) => o.clientOrderId));
      if (page.nextPageToken === "") break;
      request = { ...listRequest, pageToken: page.nextPageToken };
    }
    // x-4 is older: the admin placed it for bob above.
    expect(seen).toEqual(["page-4", "page-3", "page-2", "page-1", "page-0", "x-4"]);

    const first = await call<ListOrdersRequest, ListOrdersResponse>(client.listOrders, listRequest, "bob");
    await expect(call(client.listOrders, { ...listRequest, side: Side.SIDE_BUY, pageToken: first.nextPageToken }, "bob")).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining("page_token"),
    });
    await expect(call(client.listOrders, { ...listRequest, pageToken: first.nextPageToken }, "alice")).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(call(client.listOrders, { ...listRequest, pageSize: 5000 }, "bob")).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^page_size: /) });
  });

  it("lists an account's executions and positions, and only its own", async () => {
    const executions = await call<ListExecutionsRequest, ListExecutionsResponse>(
      client.listExecutions,
      { symbol: "", orderId: "", startTime: undefined, endTime: undefined, pageSize: 0, pageToken: "", account: "" },
      "bob",
    );
    expect(executions.executions.length).toBeGreaterThan(0);
    expect(new Set(executions.executions.map((e) => e.account))).toEqual(new Set(["bob"]));
    expect(executions.executions[0]).toMatchObject({ symbol: "BTC-USD", side: Side.SIDE_BUY, price: "10000.5", quantity: "0.002", clientOrderId: "bid-2" });

    const positions = await call<GetPositionsRequest, GetPositionsResponse>(client.getPositions, { symbol: "BTC-USD", account: "" }, "bob");
    expect(positions.positions).toEqual([expect.objectContaining({ account: "bob", symbol: "BTC-USD", netQuantity: "0.002", averagePrice: "10000.5", realizedPnl: "0" })]);
    await expect(call(client.getPositions, { symbol: "", account: "bob" }, "alice")).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });
});

describe("CancelAllOrders", () => {
  it("cancels every open order of the account, engages the kill switch, and only an admin releases it", async () => {
    await place({ clientOrderId: "all-1", price: "10700" }, "bob");
    await place({ clientOrderId: "all-2", price: "10701" }, "bob");
    const cancelAll = (request: Partial<CancelAllOrdersRequest>, account: string, role?: "viewer" | "trader" | "admin") =>
      call<CancelAllOrdersRequest, CancelAllOrdersResponse>(client.cancelAllOrders, { symbol: "", engageKillSwitch: false, releaseKillSwitch: false, account: "", ...request }, account, role);

    const result = await cancelAll({ engageKillSwitch: true }, "bob");
    expect(result.killSwitchEngaged).toBe(true);
    expect(result.cancelledCount).toBeGreaterThanOrEqual(2);
    await expect(place({ clientOrderId: "all-3" }, "bob")).rejects.toMatchObject({ details: expect.stringMatching(/^risk rule kill_switch/) });
    await expect(cancelAll({ releaseKillSwitch: true }, "bob")).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: "only admins release a kill switch" });
    await expect(cancelAll({ engageKillSwitch: true, releaseKillSwitch: true }, "bob")).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: "engage_kill_switch and release_kill_switch cannot both be set",
    });
    expect(await cancelAll({ releaseKillSwitch: true, account: "bob" }, "ops", "admin")).toEqual({ cancelledCount: 0, killSwitchEngaged: false });
    expect((await place({ clientOrderId: "all-4", price: "10702" }, "bob")).status).toBe(OrderStatus.ORDER_STATUS_NEW);
    expect((await cancelAll({ symbol: "BTC-USD" }, "bob")).cancelledCount).toBe(1);
  });
});

// AAPL, and accounts of their own (dave, erin): the book and the streams see nothing of the tests above.
const aaplOrder = (clientOrderId: string, side: Side, price: string, quantity = "10"): PlaceOrderRequest => ({
  ...limitOrder,
  clientOrderId,
  symbol: "AAPL",
  side,
  price,
  quantity,
});

/** Collects what a server stream sends; `next(n)` waits for the n-th message. */
function collect<T>(stream: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>) {
  const messages: T[] = [];
  let error: grpc.ServiceError | undefined;
  let ended = false;
  stream.on("data", (m: T) => messages.push(m));
  stream.on("error", (e: grpc.ServiceError) => (error = e));
  stream.on("end", () => (ended = true));
  const until = async (what: string, done: () => boolean) => {
    for (let tries = 0; tries < 500 && !done(); tries++) await new Promise((r) => setTimeout(r, 10));
    if (!done()) throw new Error(`stream: ${what} did not happen; got ${messages.length} messages${error ? `, error ${error.details}` : ""}`);
  };
  return {
    messages,
    error: () => error,
    next: async (count: number) => (await until(`message ${count}`, () => messages.length >= count), messages.slice(0, count)),
    failed: async () => (await until("an error", () => error !== undefined), error!),
    ended: () => until("the end", () => ended || error !== undefined),
  };
}

describe("StreamOrderUpdates", () => {
  it("streams the account's own order changes live, fills included, and nobody else's", async () => {
    const daveStream = client.streamOrderUpdates({ fromSequence: 0n, symbol: "", account: "" }, await metadataFor("dave"));
    const erinStream = client.streamOrderUpdates({ fromSequence: 0n, symbol: "AAPL", account: "" }, await metadataFor("erin"));
    const dave = collect<StreamOrderUpdatesResponse>(daveStream);
    const erin = collect<StreamOrderUpdatesResponse>(erinStream);
    await new Promise((r) => setTimeout(r, 100)); // the streams are listening

    const ask = await place(aaplOrder("s-ask-1", Side.SIDE_SELL, "150"), "dave");
    const [placed] = await dave.next(1);
    expect(placed).toMatchObject({ order: { orderId: ask.orderId, status: OrderStatus.ORDER_STATUS_NEW, account: "dave" }, execution: undefined });

    await place(aaplOrder("s-bid-1", Side.SIDE_BUY, "150", "4"), "erin");
    const [, fill] = await dave.next(2);
    expect(fill).toMatchObject({
      order: { orderId: ask.orderId, status: OrderStatus.ORDER_STATUS_PARTIALLY_FILLED, filledQuantity: "4", remainingQuantity: "6" },
      execution: { orderId: ask.orderId, price: "150", quantity: "4", account: "dave", clientOrderId: "s-ask-1" },
    });
    const [erinFill] = await erin.next(1);
    expect(erinFill).toMatchObject({ order: { clientOrderId: "s-bid-1", status: OrderStatus.ORDER_STATUS_FILLED, account: "erin" }, execution: { quantity: "4" } });
    expect(dave.messages.every((m) => m.order?.account === "dave")).toBe(true);
    expect(erin.messages.every((m) => m.order?.account === "erin")).toBe(true);
    daveStream.cancel();
    erinStream.cancel();
  });

  it("resumes from a sequence: the history first, then live, with no gap and no duplicate", async () => {
    const first = await place(aaplOrder("r-1", Side.SIDE_SELL, "160"), "dave");
    await place(aaplOrder("r-2", Side.SIDE_SELL, "161"), "dave");
    await waitForProjection("r-2", "dave");
    const stream = client.streamOrderUpdates({ fromSequence: first.sequence, symbol: "", account: "" }, await metadataFor("dave"));
    const dave = collect<StreamOrderUpdatesResponse>(stream);
    const history = await dave.next(2);
    expect(history.map((m) => m.order?.clientOrderId)).toEqual(["r-1", "r-2"]);

    await place(aaplOrder("r-3", Side.SIDE_SELL, "162"), "dave");
    const all = await dave.next(3);
    expect(all.map((m) => m.order?.clientOrderId)).toEqual(["r-1", "r-2", "r-3"]);
    await new Promise((r) => setTimeout(r, 200));
    expect(dave.messages).toHaveLength(3);
    stream.cancel();
  });

  it("reads from PostgreSQL the changes whose live publish was lost", async () => {
    const stream = client.streamOrderUpdates({ fromSequence: 0n, symbol: "", account: "" }, await metadataFor("dave"));
    const dave = collect<StreamOrderUpdatesResponse>(stream);
    await new Promise((r) => setTimeout(r, 100));
    dropNextPublish = true;
    await place(aaplOrder("lost-1", Side.SIDE_SELL, "170"), "dave");
    await waitForProjection("lost-1", "dave");
    expect(dropNextPublish).toBe(false);
    await place(aaplOrder("after-lost", Side.SIDE_SELL, "171"), "dave");
    const messages = await dave.next(2);
    expect(messages.map((m) => m.order?.clientOrderId)).toEqual(["lost-1", "after-lost"]);
    stream.cancel();
  });

  it("refuses a caller without a valid token, and another account's stream unless admin", async () => {
    const anonymous = collect(client.streamOrderUpdates({ fromSequence: 0n, symbol: "", account: "" }, new grpc.Metadata()));
    expect(await anonymous.failed()).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const nosy = collect(client.streamOrderUpdates({ fromSequence: 0n, symbol: "", account: "dave" }, await metadataFor("erin")));
    expect(await nosy.failed()).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    const admin = client.streamOrderUpdates({ fromSequence: 1n, symbol: "AAPL", account: "dave" }, await metadataFor("ops", "admin"));
    const forAdmin = collect<StreamOrderUpdatesResponse>(admin);
    expect((await forAdmin.next(1))[0]?.order?.account).toBe("dave");
    admin.cancel();
  });

  it("ends a stream, StreamOrderUpdates and OrderEntry alike, when the token that opened it expires", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${await signDevToken({ account: "dave", role: "trader", hs256Secret: secret, issuer, audience, ttlSeconds: 2 })}`);
    const updates = collect(client.streamOrderUpdates({ fromSequence: 0n, symbol: "", account: "" }, metadata));
    const entry = collect(client.orderEntry(metadata));
    for (const stream of [updates, entry]) {
      const error = await stream.failed();
      expect([grpc.status[error.code], error.metadata.get("hft-reason")[0]]).toEqual(["UNAUTHENTICATED", "TOKEN_EXPIRED"]);
    }
  });
});

describe("OrderEntry", () => {
  it("answers each instruction by request id, refuses bad ones without ending the stream, and pushes fills", async () => {
    const stream = client.orderEntry(await metadataFor("erin"));
    const erin = collect<OrderEntryResponse>(stream);
    const send = (request: Omit<OrderEntryRequest, "requestId"> & { requestId: number }) => stream.write({ ...request, requestId: BigInt(request.requestId) });
    await new Promise((r) => setTimeout(r, 100));

    for (let i = 1; i <= 20; i++) send({ requestId: i, action: { $case: "place", value: aaplOrder(`oe-${i}`, Side.SIDE_BUY, String(100 + i), "1") } });
    send({ requestId: 21, action: { $case: "place", value: { ...aaplOrder("oe-bad", Side.SIDE_BUY, "100.001"), account: "" } } });
    send({ requestId: 22, action: { $case: "place", value: aaplOrder("oe-1", Side.SIDE_BUY, "99", "1") } });
    const answers = () => erin.messages.filter((m) => m.requestId > 0n);
    for (let tries = 0; tries < 500 && answers().length < 22; tries++) await new Promise((r) => setTimeout(r, 10));
    const byId = new Map(answers().map((m) => [Number(m.requestId), m]));
    expect(byId.size).toBe(22);
    for (let i = 1; i <= 20; i++) expect(byId.get(i)?.result).toMatchObject({ $case: "order", value: { clientOrderId: `oe-${i}`, status: OrderStatus.ORDER_STATUS_NEW } });
    expect(byId.get(21)?.result).toMatchObject({ $case: "error", value: { code: grpc.status.INVALID_ARGUMENT, reason: "DECIMAL_NOT_MULTIPLE", message: expect.stringContaining("price") } });
    expect(byId.get(22)?.result).toMatchObject({ $case: "error", value: { code: grpc.status.ALREADY_EXISTS, reason: "CLIENT_ORDER_ID_REUSED" } });

    const target = byId.get(5)!.result as { $case: "order"; value: Order };
    send({ requestId: 23, action: { $case: "replace", value: { orderId: target.value.orderId, price: "", quantity: "" } } });
    send({ requestId: 24, action: { $case: "cancel", value: { orderId: target.value.orderId } } });
    send({ requestId: 25, action: { $case: "cancel", value: { orderId: target.value.orderId } } });
    for (let tries = 0; tries < 500 && answers().length < 25; tries++) await new Promise((r) => setTimeout(r, 10));
    const later = new Map(answers().map((m) => [Number(m.requestId), m]));
    expect(later.get(23)?.result).toMatchObject({ $case: "error", value: { code: grpc.status.INVALID_ARGUMENT } });
    expect(later.get(24)?.result).toMatchObject({ $case: "order", value: { status: OrderStatus.ORDER_STATUS_CANCELLED } });
    expect(later.get(25)?.result).toMatchObject({ $case: "error", value: { reason: "ORDER_NOT_OPEN" } });

    // A fill of an order resting from this stream arrives unasked, with request_id 0.
    await place(aaplOrder("oe-hit", Side.SIDE_SELL, "120", "1"), "dave");
    for (let tries = 0; tries < 500 && !erin.messages.some((m) => m.requestId === 0n && m.execution); tries++) await new Promise((r) => setTimeout(r, 10));
    expect(erin.messages.find((m) => m.requestId === 0n && m.execution)).toMatchObject({
      result: { $case: "order", value: { clientOrderId: "oe-20", status: OrderStatus.ORDER_STATUS_FILLED } },
      execution: { price: "120", quantity: "1" },
    });

    stream.end();
    await erin.ended();
    expect(erin.error()).toBeUndefined();
  });

  it("ends with UNAUTHENTICATED for a caller without a valid token", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", "Bearer not-a-token");
    const stream = client.orderEntry(metadata);
    const anonymous = collect(stream);
    stream.write({ requestId: 1n, action: { $case: "place", value: aaplOrder("anon", Side.SIDE_BUY, "1") } });
    expect(await anonymous.failed()).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });
});

// Last: the metrics it checks count the calls of every test above.
describe("operability", () => {
  it("answers the health service and server reflection, and counts calls in its metrics", async () => {
    const grpcurl = fileURLToPath(new URL("../../.deps/bin/grpcurl", import.meta.url));
    if (!existsSync(grpcurl)) throw new Error("grpcurl missing: scripts/install-tools.sh installs it");
    const health = await run(grpcurl, ["-plaintext", "-d", '{"service": "hft.v1.OrderService"}', address, "grpc.health.v1.Health/Check"]);
    expect(JSON.parse(health.stdout)).toEqual({ status: "SERVING" });
    const services = await run(grpcurl, ["-plaintext", address, "list"]);
    expect(services.stdout.split("\n")).toEqual(expect.arrayContaining(["hft.v1.OrderService", "grpc.health.v1.Health"]));
    // Reflection carries every imported file too, so a generic client encodes the request and decodes the answer.
    const positions = await run(grpcurl, ["-plaintext", "-H", `authorization: Bearer ${await token("bob")}`, "-d", '{"symbol": "BTC-USD"}', address, "hft.v1.OrderService/GetPositions"]);
    expect(JSON.parse(positions.stdout)).toMatchObject({ positions: [expect.objectContaining({ account: "bob", symbol: "BTC-USD" })] });

    const text = await registry.metrics();
    expect(sample(text, "grpc_server_handled_total", { grpc_service: "hft.v1.OrderService", grpc_method: "PlaceOrder", grpc_type: "unary", grpc_code: "OK" })).toBeGreaterThan(0);
    expect(sample(text, "grpc_server_handled_total", { grpc_method: "PlaceOrder", grpc_code: "INVALID_ARGUMENT" })).toBeGreaterThan(0);
    expect(sample(text, "grpc_server_handled_total", { grpc_method: "OrderEntry", grpc_type: "bidi_stream" })).toBeGreaterThan(0);
    expect(sample(text, "hft_order_processing_microseconds_count", { operation: "place", stage: "engine" })).toBeGreaterThan(0);
    expect(sample(text, "hft_order_instructions_refused_total", { operation: "place", reason: "CLIENT_ORDER_ID_REUSED" })).toBeGreaterThan(0);
    expect(sample(text, "hft_orders_total", { status: "filled" })).toBeGreaterThan(0);
    expect(sample(text, "hft_dependency_operation_seconds_count", { dependency: "postgres", operation: "claim_client_order_ids", outcome: "ok" })).toBeGreaterThan(0);
    expect(sample(text, "hft_dependency_operation_seconds_count", { dependency: "postgres", operation: "record_answers", outcome: "ok" })).toBeGreaterThan(0);
    expect(sample(text, "hft_dependency_operation_seconds_count", { dependency: "redis", operation: "set_answer", outcome: "ok" })).toBeGreaterThan(0);
    expect(sample(text, "hft_active_positions", {})).toBeGreaterThan(0);
  });
});

/** The sum of the samples of `name` that carry every one of `labels`, in Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

async function waitForProjection(clientOrderId: string, account: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const { rowCount } = await db.pool.query("SELECT 1 FROM orders o JOIN accounts a USING (account_id) WHERE a.name = $1 AND o.client_order_id = $2", [account, clientOrderId]);
    if (rowCount) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`order ${clientOrderId} never reached the projection`);
}
