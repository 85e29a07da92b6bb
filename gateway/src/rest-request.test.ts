import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { publicServices } from "./public-services.js";
import { GatewayError } from "./gateway-error.js";
import { restRequestOf } from "./rest-request.js";
import { createRestRouter, restRoutesOf } from "./rest-routes.js";

const routes = restRoutesOf(publicServices);
const router = createRestRouter(routes);

/** The request JSON a REST call becomes, or the refusal's message. */
function transcode(method: string, target: string, body?: JsonValue): unknown {
  const url = new URL(target, "http://gateway");
  const match = router.match(method, url.pathname);
  if (match.kind !== "found") return match;
  try {
    return toJson(match.route.method.input, restRequestOf(match.route as never, match.variables, url.searchParams, body));
  } catch (error) {
    if (error instanceof GatewayError) return { refused: error.message };
    throw error;
  }
}

describe("REST routes", () => {
  it("cover every annotated RPC and the derived stream routes", () => {
    expect(routes.map((r) => `${r.httpMethod} ${r.template.source}`).sort()).toEqual(
      [
        "DELETE /api/v1/orders/{order_id}",
        "GET /api/analytics",
        "GET /api/analytics/daily-pnl",
        "GET /api/analytics/symbols",
        "GET /api/v1/book/{symbol}",
        "GET /api/v1/executions",
        "GET /api/v1/instruments",
        "GET /api/v1/orders",
        "GET /api/v1/orders/{order_id}",
        "GET /api/v1/positions",
        "GET /api/v1/streams/market-data",
        "GET /api/v1/streams/order-updates",
        "PATCH /api/v1/orders/{order_id}",
        "POST /api/v1/orders",
        "POST /api/v1/orders:cancelAll",
      ].sort(),
    );
  });

  it("answers 404 for unknown paths and 405 with the allowed methods for known ones", () => {
    expect(router.match("GET", "/api/v1/nothing")).toEqual({ kind: "not-found" });
    expect(router.match("GET", "/api/analytics/")).toEqual({ kind: "not-found" });
    expect(router.match("PUT", "/api/v1/orders")).toEqual({ kind: "method-not-allowed", allow: ["GET", "POST"] });
    expect(router.match("POST", "/api/v1/orders/12")).toEqual({ kind: "method-not-allowed", allow: ["DELETE", "GET", "PATCH"] });
    expect(router.match("GET", "/api/v1/orders:cancelAll")).toEqual({ kind: "method-not-allowed", allow: ["POST"] });
  });
});

describe("restRequestOf", () => {
  const order = { clientOrderId: "c-1", symbol: "BTC-USD", side: "SIDE_BUY", type: "ORDER_TYPE_LIMIT", timeInForce: "TIME_IN_FORCE_GTC", price: "1.5", quantity: "2" };

  it.each<[string, string, string, JsonValue | undefined, unknown]>([
    ["a whole-request body", "POST", "/api/v1/orders", order, order],
    ["a body with proto field names", "POST", "/api/v1/orders", { client_order_id: "c-2", time_in_force: "TIME_IN_FORCE_IOC" }, { clientOrderId: "c-2", timeInForce: "TIME_IN_FORCE_IOC" }],
    ["a path variable", "GET", "/api/v1/orders/42", undefined, { orderId: "42" }],
    ["a path variable with the body", "PATCH", "/api/v1/orders/42", { price: "10.25" }, { orderId: "42", price: "10.25" }],
    ["a path variable, percent-decoded, and a query", "GET", "/api/v1/book/BTC%2DUSD?depth=5", undefined, { symbol: "BTC-USD", depth: 5 }],
    ["a custom verb with a body", "POST", "/api/v1/orders:cancelAll", { engageKillSwitch: true }, { engageKillSwitch: true }],
    ["repeated enums, a timestamp and an int from the query", "GET", "/api/v1/orders?statuses=ORDER_STATUS_NEW&statuses=ORDER_STATUS_FILLED&start_time=2026-01-02T03:04:05Z&pageSize=20", undefined, { statuses: ["ORDER_STATUS_NEW", "ORDER_STATUS_FILLED"], startTime: "2026-01-02T03:04:05Z", pageSize: 20 }],
    ["an enum by number", "GET", "/api/v1/orders?side=1", undefined, { side: "SIDE_BUY" }],
    ["booleans from the query", "GET", "/api/v1/streams/market-data?symbols=BTC-USD&symbols=ETH-USD&include_l1=true&include_trades=false", undefined, { symbols: ["BTC-USD", "ETH-USD"], includeL1: true }],
    ["the analytics defaults", "GET", "/api/analytics/daily-pnl", undefined, {}],
    ["the days query", "GET", "/api/analytics/daily-pnl?days=7", undefined, { days: 7 }],
    ["an admin's account query", "GET", "/api/analytics?account=bob", undefined, { account: "bob" }],
  ])("builds the request from %s", (_case, method, target, body, expected) => {
    expect(transcode(method, target, body)).toEqual(expected);
  });

  it.each<[string, string, string, JsonValue | undefined, string]>([
    ["an unknown body field", "POST", "/api/v1/orders", { ...order, colour: "red" }, 'key "colour" is unknown'],
    ["a wrong type in the body", "POST", "/api/v1/orders", { ...order, postOnly: "yes" }, "hft.v1.PlaceOrderRequest.post_only"],
    ["a number for a string", "POST", "/api/v1/orders", { ...order, price: 1.5 }, "hft.v1.PlaceOrderRequest.price"],
    ["an unknown enum name", "POST", "/api/v1/orders", { ...order, side: "BUY" }, 'hft.v1.Side from JSON: "BUY"'],
    ["a body that is not an object", "POST", "/api/v1/orders", [order], "the request body must be a JSON object"],
    ["a body on a GET", "GET", "/api/v1/orders", { symbol: "X" }, "takes no request body"],
    ["a query with a whole-request body", "POST", "/api/v1/orders?symbol=X", order, "query parameter symbol is not accepted"],
    ["an unknown query parameter", "GET", "/api/v1/orders?colour=red", undefined, "query parameter colour names no field of hft.v1.ListOrdersRequest"],
    ["a word for a number", "GET", "/api/analytics/daily-pnl?days=abc", undefined, 'query parameter days: expected a whole number, got "abc"'],
    ["a negative unsigned number", "GET", "/api/analytics/daily-pnl?days=-1", undefined, "-1 out of range"],
    ["a repeated scalar given twice", "GET", "/api/analytics/daily-pnl?days=1&days=2", undefined, "query parameter days is given 2 times"],
    ["an unknown enum in the query", "GET", "/api/v1/orders?statuses=DONE", undefined, 'query parameter statuses: expected one of ORDER_STATUS_UNSPECIFIED'],
    ["a bad boolean", "GET", "/api/v1/streams/market-data?include_l1=yes", undefined, 'query parameter include_l1: expected true or false, got "yes"'],
    ["a bad timestamp", "GET", "/api/v1/orders?start_time=yesterday", undefined, "google.protobuf.Timestamp"],
    ["a path field again in the query", "GET", "/api/v1/orders/42?order_id=43", undefined, "query parameter order_id is bound by the path"],
    ["a path field again in the body", "PATCH", "/api/v1/orders/42", { orderId: "43", price: "1" }, "the path (order_id) sets order_id"],
  ])("refuses %s, naming the problem", (_case, method, target, body, problem) => {
    const result = transcode(method, target, body) as { refused?: string };
    expect(result.refused).toContain(problem);
  });
});
