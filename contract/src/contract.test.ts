import { create, getOption, type MessageInitShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { describe, expect, it } from "vitest";
import { http } from "./gen/es/google/api/annotations_pb.js";
import { AnalyticsService } from "./gen/es/hft/v1/analytics_service_pb.js";
import { MarketDataService } from "./gen/es/hft/v1/market_data_service_pb.js";
import {
  ListOrdersRequestSchema,
  OrderService,
  PlaceOrderRequestSchema,
  ReplaceOrderRequestSchema,
} from "./gen/es/hft/v1/order_service_pb.js";
import { OrderType, Side, TimeInForce } from "./gen/es/hft/v1/types_pb.js";
import { EngineCommand, OrderFlowRequest } from "./gen/grpc/hft/v1/engine_service.js";

const publicServices = [OrderService, MarketDataService, AnalyticsService];

function routeOf(method: (typeof publicServices)[number]["methods"][number]): string | undefined {
  const rule = getOption(method, http);
  const pattern = rule.pattern;
  if (pattern.case === undefined || pattern.case === "custom") return undefined;
  return `${pattern.case.toUpperCase()} ${pattern.value as string}`;
}

describe("REST routes from google.api.http", () => {
  it("map every route the public API promises", () => {
    const routes = publicServices.flatMap((service) => service.methods.map(routeOf)).filter(Boolean);
    expect(routes).toEqual(
      expect.arrayContaining([
        "POST /api/v1/orders",
        "GET /api/v1/orders/{order_id}",
        "GET /api/v1/orders",
        "DELETE /api/v1/orders/{order_id}",
        "PATCH /api/v1/orders/{order_id}",
        "POST /api/v1/orders:cancelAll",
        "GET /api/v1/executions",
        "GET /api/v1/positions",
        "GET /api/v1/instruments",
        "GET /api/v1/book/{symbol}",
        "GET /api/analytics",
        "GET /api/analytics/daily-pnl",
        "GET /api/analytics/symbols",
      ]),
    );
  });

  it("annotate every public unary RPC and no streaming one", () => {
    for (const service of publicServices) {
      for (const method of service.methods) {
        const annotated = routeOf(method) !== undefined;
        expect(`${service.name}.${method.name} annotated: ${annotated}`).toBe(`${service.name}.${method.name} annotated: ${method.methodKind === "unary"}`);
      }
    }
  });
});

describe("protovalidate rules", () => {
  const validator = createValidator();
  type PlaceOrderFields = MessageInitShape<typeof PlaceOrderRequestSchema>;
  const goodOrder: PlaceOrderFields = {
    clientOrderId: "algo-1:0001",
    symbol: "BTC-USD",
    side: Side.BUY,
    type: OrderType.LIMIT,
    timeInForce: TimeInForce.GTC,
    price: "101.25",
    quantity: "0.5",
  };
  const violationsOf = (fields: PlaceOrderFields) => {
    const result = validator.validate(PlaceOrderRequestSchema, create(PlaceOrderRequestSchema, { ...goodOrder, ...fields }));
    // one field may break several rules (an empty id is both too short and off the pattern)
    return result.kind === "invalid" ? [...new Set(result.violations.map((v) => v.field.map((f) => ("name" in f ? f.name : "")).join(".")))] : [];
  };

  it("accept a well-formed order, market orders without a price included", () => {
    expect(violationsOf({})).toEqual([]);
    expect(violationsOf({ type: OrderType.MARKET, timeInForce: TimeInForce.IOC, price: "" })).toEqual([]);
  });

  it.each([
    ["client_order_id", { clientOrderId: "" }],
    ["client_order_id", { clientOrderId: "x".repeat(41) }],
    ["client_order_id", { clientOrderId: "has space" }],
    ["symbol", { symbol: "btc-usd" }],
    ["side", { side: Side.UNSPECIFIED }],
    ["side", { side: 9 as Side }],
    ["type", { type: OrderType.UNSPECIFIED }],
    ["time_in_force", { timeInForce: TimeInForce.UNSPECIFIED }],
    ["price", { price: "1e5" }],
    ["price", { price: "-1" }],
    ["quantity", { quantity: "" }],
    ["quantity", { quantity: "1.5.5" }],
    ["display_quantity", { displayQuantity: "abc" }],
  ])("name %s when it is wrong", (field, fields) => {
    expect(violationsOf(fields)).toEqual([field]);
  });

  it("require a replace to change the price or the quantity", () => {
    const result = validator.validate(ReplaceOrderRequestSchema, create(ReplaceOrderRequestSchema, { orderId: "42" }));
    expect(result.kind).toBe("invalid");
    expect(result.kind === "invalid" && result.violations[0]?.message).toBe("at least one of price and quantity must be given");
    expect(validator.validate(ReplaceOrderRequestSchema, create(ReplaceOrderRequestSchema, { orderId: "42", quantity: "3" })).kind).toBe("valid");
  });

  it("bound page sizes", () => {
    expect(validator.validate(ListOrdersRequestSchema, create(ListOrdersRequestSchema, { pageSize: 1000 })).kind).toBe("valid");
    expect(validator.validate(ListOrdersRequestSchema, create(ListOrdersRequestSchema, { pageSize: 1001 })).kind).toBe("invalid");
  });
});

describe("engine messages (ts-proto)", () => {
  it("carry 64-bit ids and sequences as bigint without losing precision", () => {
    const command = EngineCommand.fromPartial({
      correlationId: 2n ** 63n + 7n,
      command: { $case: "cancelOrder", value: { accountId: 2n ** 53n + 1n, orderId: 18_446_744_073_709_551_615n } },
    });
    const decoded = OrderFlowRequest.decode(OrderFlowRequest.encode({ commands: [command] }).finish());
    expect(decoded.commands[0]).toEqual(command);
  });
});
