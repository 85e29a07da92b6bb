import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaClient, createLogger, createMigrator, createTokenVerifier, kafkaConfig, loadConfig, signDevToken } from "@hft/service-kit";
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
  OrderServiceClient,
  OrderServiceService,
  type PlaceOrderRequest,
  type PlaceOrderResponse,
  type ReplaceOrderRequest,
  type ReplaceOrderResponse,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderStatus, OrderType, SelfTradePrevention, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { type EngineProcess, freePort, startEngine } from "../../tests/support/engine-process.js";
import { Catalog } from "./catalog.js";
import { EngineLink } from "./engine-link.js";
import { defineShardInstruments } from "./instrument-sync.js";
import { OrderDesk } from "./order-desk.js";
import { Reads } from "./reads.js";
import { Projector } from "./projection/projector.js";
import { orderServiceHandlers } from "./service.js";
import { parseShards } from "./shards.js";

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
  await db.pool.query("INSERT INTO accounts (name, status) VALUES ('alice', 'active'), ('bob', 'active'), ('carol', 'suspended')");
  engine = await startEngine();
  const shards = parseShards(`default=${engine.address}@1`);
  link = new EngineLink({ shard: "default", address: engine.address });
  await link.ready();
  const catalog = new Catalog(db.pool);
  await defineShardInstruments(catalog, link, "default");
  producer = createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: "order-service-test" }).producer({ idempotent: true });
  await producer.connect();
  projector = new Projector({ shard: "default", engineAddress: engine.address, pool: db.pool, producer, logger });
  await projector.start();

  const desk = new OrderDesk({ pool: db.pool, catalog, shards, links: new Map([["default", link]]) });
  server = new grpc.Server();
  const reads = new Reads({ pool: db.pool, catalog, pageTokenKey: "page-token-key-for-tests-0123456789abcdef", readableAccount: (i, a) => desk.readableAccount(i, a) });
  server.addService(OrderServiceService, orderServiceHandlers({ desk, reads, verify: await createTokenVerifier({ hs256Secret: secret, issuer, audience }), logger }));
  const port = await freePort();
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  client = new OrderServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  await projector?.stop();
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

async function waitForProjection(clientOrderId: string, account: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const { rowCount } = await db.pool.query("SELECT 1 FROM orders o JOIN accounts a USING (account_id) WHERE a.name = $1 AND o.client_order_id = $2", [account, clientOrderId]);
    if (rowCount) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`order ${clientOrderId} never reached the projection`);
}
