/**
 * The same operations through the gateway's four front doors — REST/JSON, Connect (HTTP/1.1),
 * gRPC (HTTP/2) and gRPC-Web (HTTP/1.1) — against the real order and analytics services give the
 * same results, and a backend's error arrives with its code, message and reason on each.
 */
import { type DescMessage, type MessageShape, equals, fromJson, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyticsService, GetAnalyticsResponseSchema, GetDailyPnlResponseSchema } from "@hft/contract/es/hft/v1/analytics_service_pb.js";
import { MarketDataService } from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import {
  CancelOrderResponseSchema,
  GetOrderResponseSchema,
  ListOrdersResponseSchema,
  OrderService,
  PlaceOrderResponseSchema,
} from "@hft/contract/es/hft/v1/order_service_pb.js";
import { OrderStatus, OrderType, Side, TimeInForce } from "@hft/contract/es/hft/v1/types_pb.js";
import { type Platform, startPlatform } from "./platform.js";

let platform: Platform;
let url: string;
let token: string;
type Rpc = "connect" | "grpc" | "grpc-web";
const clients = {} as Record<Rpc, { orders: Client<typeof OrderService>; analytics: Client<typeof AnalyticsService>; market: Client<typeof MarketDataService> }>;

beforeAll(async () => {
  platform = await startPlatform();
  const gateway = await platform.startGateway();
  url = gateway.url;
  token = await platform.token(platform.accounts.alice, "trader");
  const transports = {
    connect: createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
    grpc: createGrpcTransport({ baseUrl: url }),
    "grpc-web": createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
  };
  for (const [name, transport] of Object.entries(transports) as [Rpc, (typeof transports)[Rpc]][]) {
    clients[name] = { orders: createClient(OrderService, transport), analytics: createClient(AnalyticsService, transport), market: createClient(MarketDataService, transport) };
  }
});
afterAll(async () => platform?.stop());

const headers = () => ({ authorization: `Bearer ${token}` });

async function rest<Desc extends DescMessage>(schema: Desc, method: string, path: string, body?: unknown): Promise<MessageShape<Desc>> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers(), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as never;
  if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return fromJson(schema, json);
}

const order = (clientOrderId: string) => ({
  clientOrderId,
  symbol: "BTC-USD",
  side: Side.SELL,
  type: OrderType.LIMIT,
  timeInForce: TimeInForce.GTC,
  price: "25000.50",
  quantity: "0.0100",
});

describe("the same operation over REST, Connect, gRPC and gRPC-Web", () => {
  const ids: Record<string, string> = {};

  it("places an order on each with the same outcome", async () => {
    const placed = {
      rest: (await rest(PlaceOrderResponseSchema, "POST", "/api/v1/orders", jsonOrder("p-rest"))).order!,
      connect: (await clients.connect.orders.placeOrder(order("p-connect"), { headers: headers() })).order!,
      grpc: (await clients.grpc.orders.placeOrder(order("p-grpc"), { headers: headers() })).order!,
      "grpc-web": (await clients["grpc-web"].orders.placeOrder(order("p-grpc-web"), { headers: headers() })).order!,
    };
    for (const [protocol, placedOrder] of Object.entries(placed)) {
      ids[protocol] = placedOrder.orderId;
      expect({ protocol, status: placedOrder.status, account: placedOrder.account, price: placedOrder.price, quantity: placedOrder.quantity, clientOrderId: placedOrder.clientOrderId }).toEqual({
        protocol,
        status: OrderStatus.NEW,
        account: platform.accounts.alice,
        price: "25000.5",
        quantity: "0.01",
        clientOrderId: `p-${protocol}`,
      });
    }
    expect(new Set(Object.values(ids)).size).toBe(4);
  });

  it("gets each order identically on every protocol", async () => {
    for (const id of Object.values(ids)) {
      const viaRest = await rest(GetOrderResponseSchema, "GET", `/api/v1/orders/${id}`);
      for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
        const viaRpc = await clients[protocol].orders.getOrder({ orderId: id }, { headers: headers() });
        expect(equals(GetOrderResponseSchema, viaRpc, viaRest), `${protocol} GetOrder ${id}`).toBe(true);
      }
    }
  });

  it("lists the same page on every protocol, query parameters on REST", async () => {
    const viaRest = await rest(ListOrdersResponseSchema, "GET", "/api/v1/orders?symbol=BTC-USD&page_size=10&statuses=ORDER_STATUS_NEW");
    expect(viaRest.orders.map((o) => o.orderId).sort()).toEqual(Object.values(ids).sort());
    for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
      const viaRpc = await clients[protocol].orders.listOrders({ symbol: "BTC-USD", pageSize: 10, statuses: [OrderStatus.NEW] }, { headers: headers() });
      expect(equals(ListOrdersResponseSchema, viaRpc, viaRest), protocol).toBe(true);
    }
  });

  it("cancels one order on each protocol with the same outcome", async () => {
    const cancelled = {
      rest: (await rest(CancelOrderResponseSchema, "DELETE", `/api/v1/orders/${ids.rest}`)).order!,
      connect: (await clients.connect.orders.cancelOrder({ orderId: ids.connect! }, { headers: headers() })).order!,
      grpc: (await clients.grpc.orders.cancelOrder({ orderId: ids.grpc! }, { headers: headers() })).order!,
      "grpc-web": (await clients["grpc-web"].orders.cancelOrder({ orderId: ids["grpc-web"]! }, { headers: headers() })).order!,
    };
    for (const [protocol, o] of Object.entries(cancelled)) expect({ protocol, status: o.status, id: o.orderId }).toEqual({ protocol, status: OrderStatus.CANCELLED, id: ids[protocol] });
  });

  it("answers analytics identically, GET /api/analytics and /api/analytics/daily-pnl included", async () => {
    const strip = <T extends { asOf?: unknown }>(m: T) => ({ ...m, asOf: undefined });
    const viaRest = await rest(GetAnalyticsResponseSchema, "GET", "/api/analytics");
    expect(viaRest.account).toBe(platform.accounts.alice);
    const daily = await rest(GetDailyPnlResponseSchema, "GET", "/api/analytics/daily-pnl");
    expect(daily.days).toHaveLength(30); // the contract's default
    const week = await rest(GetDailyPnlResponseSchema, "GET", "/api/analytics/daily-pnl?days=7");
    expect(week.days).toHaveLength(7);
    for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
      const viaRpc = await clients[protocol].analytics.getAnalytics({}, { headers: headers() });
      expect(equals(GetAnalyticsResponseSchema, strip(viaRpc) as never, strip(viaRest) as never), protocol).toBe(true);
      const dailyRpc = await clients[protocol].analytics.getDailyPnl({ days: 7 }, { headers: headers() });
      expect(dailyRpc.days.map((d) => toJson(GetDailyPnlResponseSchema.fields[0]!.message!, d))).toEqual(week.days.map((d) => toJson(GetDailyPnlResponseSchema.fields[0]!.message!, d)));
    }
  });

  it("passes a backend error through with its code, message and reason", async () => {
    const response = await fetch(`${url}/api/v1/orders/999999999`, { headers: headers() });
    const body = (await response.json()) as { code: string; message: string; reason: string };
    expect(response.status).toBe(404);
    expect(body.code).toBe("not_found");
    for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
      const error = await clients[protocol].orders.getOrder({ orderId: "999999999" }, { headers: headers() }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect({ protocol, code: error?.code, message: error?.rawMessage, reason: error?.metadata.get("hft-reason") }).toEqual({ protocol, code: Code.NotFound, message: body.message, reason: body.reason });
    }
  });

  it("ends a stream at the client's deadline", async () => {
    for (const protocol of ["connect", "grpc", "grpc-web"] as const) {
      const stream = clients[protocol].orders.streamOrderUpdates({}, { headers: headers(), timeoutMs: 300 });
      const error = await (async () => {
        for await (const _ of stream) void _;
      })().then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect({ protocol, code: error?.code }).toEqual({ protocol, code: Code.DeadlineExceeded });
    }
  });
});

describe("streams through the gateway", () => {
  it("delivers order updates over gRPC and as NDJSON over REST", async () => {
    // from_sequence 1 replays the account's history first, so the update cannot be missed by a
    // stream that reached the backend after the order.
    await clients.connect.orders.placeOrder(order("s-1"), { headers: headers() });
    const controller = new AbortController();
    let grpcSeen: string | undefined;
    for await (const update of clients.grpc.orders.streamOrderUpdates({ fromSequence: 1n }, { headers: headers(), signal: controller.signal })) {
      if (update.order?.clientOrderId === "s-1") {
        grpcSeen = `${update.order.account}:${OrderStatus[update.order.status]}`;
        break;
      }
    }
    expect(grpcSeen).toBe(`${platform.accounts.alice}:NEW`);

    const response = await fetch(`${url}/api/v1/streams/order-updates?from_sequence=1`, { headers: headers(), signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const reader = response.body!.getReader();
    let text = "";
    let restSeen: { clientOrderId: string; status: string; account: string } | undefined;
    while (!restSeen) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const line of lines) {
        const update = JSON.parse(line) as { order?: { clientOrderId: string; status: string; account: string } };
        if (update.order?.clientOrderId === "s-1") restSeen = update.order;
      }
    }
    expect({ clientOrderId: restSeen?.clientOrderId, status: restSeen?.status, account: restSeen?.account }).toEqual({ clientOrderId: "s-1", status: "ORDER_STATUS_NEW", account: platform.accounts.alice });
    controller.abort();
  });

  it("carries the bidirectional OrderEntry stream over gRPC and Connect on HTTP/2", async () => {
    const connectH2 = createClient(OrderService, createConnectTransport({ baseUrl: url, httpVersion: "2" }));
    for (const [name, client] of [["grpc", clients.grpc.orders], ["connect", connectH2]] as const) {
      async function* requests() {
        yield { requestId: 1n, action: { case: "place" as const, value: order(`e-${name}`) } };
        yield { requestId: 2n, action: { case: "cancel" as const, value: { orderId: "999999999" } } };
      }
      const answers: string[] = [];
      for await (const response of client.orderEntry(requests(), { headers: headers(), timeoutMs: 10_000 })) {
        // request_id 0: the account's own order updates, pushed on the same stream
        if (response.requestId !== 0n) answers.push(`${response.requestId}:${response.result.case}`);
        if (answers.length === 2) break;
      }
      expect({ name, answers: answers.sort() }).toEqual({ name, answers: ["1:order", "2:error"] });
    }
  });
});

function jsonOrder(clientOrderId: string) {
  return { clientOrderId, symbol: "BTC-USD", side: "SIDE_SELL", type: "ORDER_TYPE_LIMIT", timeInForce: "TIME_IN_FORCE_GTC", price: "25000.50", quantity: "0.0100" };
}
