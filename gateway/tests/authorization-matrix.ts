/**
 * The authorization matrix: every REST route of the public services × every kind of caller, and
 * the outcome each must get. gateway/tests/edge.int.test.ts runs it through the gateway over REST;
 * tests/grpc-authorization.int.test.ts runs the same calls straight at the backends' gRPC ports, so
 * a client that skips the gateway meets the same rules.
 */
import type { DescService } from "@bufbuild/protobuf";
import { AnalyticsService } from "@hft/contract/es/hft/v1/analytics_service_pb.js";
import { MarketDataService } from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import type { Platform } from "./platform.js";

export type Caller = "none" | "expired" | "wrong signature" | "viewer" | "other trader" | "trader" | "admin";
export const callers: readonly Caller[] = ["none", "expired", "wrong signature", "viewer", "other trader", "trader", "admin"];

export type Outcome = "ok" | "unauthenticated" | "permission_denied" | "not_found";
/** The HTTP status of each outcome over REST. */
export const httpStatusOf: Readonly<Record<Outcome, number>> = { ok: 200, unauthenticated: 401, permission_denied: 403, not_found: 404 };

/** The caller's bearer token: alice's for the three bad ones (expired, signed with another secret), none for `none`. */
export async function tokenOf(platform: Platform, caller: Caller): Promise<string | undefined> {
  const { alice, bob, vera, root } = platform.accounts;
  const byCaller: Record<Caller, () => Promise<string | undefined>> = {
    none: async () => undefined,
    expired: () => platform.token(alice, "trader", { ttlSeconds: -60 }),
    "wrong signature": () => platform.token(alice, "trader", { secret: "another-secret-of-at-least-32-bytes-000" }),
    viewer: () => platform.token(vera, "viewer"),
    "other trader": () => platform.token(bob, "trader"),
    trader: () => platform.token(alice, "trader"),
    admin: () => platform.token(root, "admin"),
  };
  return byCaller[caller]();
}

export interface MatrixContext {
  readonly accounts: Platform["accounts"];
  /** Places an order as alice (over the transport under test) and returns its id. */
  placeForAlice(): Promise<string>;
  /** A client order id not used before. */
  clientOrderId(): string;
}

export interface RouteCase {
  /** The REST route, as the gateway's metrics name it: `GET /api/v1/orders/{order_id}`. */
  readonly route: string;
  readonly service: DescService;
  /** The RPC's local name in the service (`getOrder`). */
  readonly method: string;
  /** The RPC's request in proto JSON for `caller`: always about alice's data. */
  readonly request: (caller: Caller, context: MatrixContext) => Promise<Record<string, unknown>>;
  /** Outcome by caller; the three bad tokens are unauthenticated everywhere. */
  readonly expect: Partial<Record<Caller, Outcome>>;
}

/** The outcome `caller` must get from `routeCase`. */
export const expectedOutcome = (routeCase: RouteCase, caller: Caller): Outcome => routeCase.expect[caller] ?? "unauthenticated";

/** A limit order of alice's in proto JSON. */
export const aliceOrder = (clientOrderId: string, extra: Record<string, unknown> = {}) => ({
  clientOrderId,
  symbol: "BTC-USD",
  side: "SIDE_BUY",
  type: "ORDER_TYPE_LIMIT",
  timeInForce: "TIME_IN_FORCE_GTC",
  price: "10.00",
  quantity: "0.0100",
  ...extra,
});

/** Alice's account where the caller is not alice (it names whose data the call is about), else nothing. */
export const forAlice = (caller: Caller, context: Pick<MatrixContext, "accounts">) => (caller === "other trader" || caller === "admin" ? { account: context.accounts.alice } : {});

export const own: Partial<Record<Caller, Outcome>> = { viewer: "ok", "other trader": "permission_denied", trader: "ok", admin: "ok" };
export const writes: Partial<Record<Caller, Outcome>> = { viewer: "permission_denied", "other trader": "permission_denied", trader: "ok", admin: "ok" };
export const public_: Partial<Record<Caller, Outcome>> = { viewer: "ok", "other trader": "ok", trader: "ok", admin: "ok" };
// Another account's order by id: not found for the caller, so its existence is not revealed.
const byId: Partial<Record<Caller, Outcome>> = { viewer: "not_found", "other trader": "not_found", trader: "ok", admin: "ok" };

export const routeCases: readonly RouteCase[] = [
  { route: "POST /api/v1/orders", service: OrderService, method: "placeOrder", request: async (c, x) => aliceOrder(x.clientOrderId(), forAlice(c, x)), expect: writes },
  { route: "GET /api/v1/orders/{order_id}", service: OrderService, method: "getOrder", request: async (_c, x) => ({ orderId: await x.placeForAlice() }), expect: byId },
  { route: "GET /api/v1/orders", service: OrderService, method: "listOrders", request: async (c, x) => forAlice(c, x), expect: own },
  {
    route: "DELETE /api/v1/orders/{order_id}",
    service: OrderService,
    method: "cancelOrder",
    request: async (_c, x) => ({ orderId: await x.placeForAlice() }),
    expect: { ...byId, viewer: "permission_denied" },
  },
  {
    route: "PATCH /api/v1/orders/{order_id}",
    service: OrderService,
    method: "replaceOrder",
    request: async (_c, x) => ({ orderId: await x.placeForAlice(), quantity: "0.005" }),
    expect: { ...byId, viewer: "permission_denied" },
  },
  { route: "POST /api/v1/orders:cancelAll", service: OrderService, method: "cancelAllOrders", request: async (c, x) => ({ symbol: "ETH-USD", ...forAlice(c, x) }), expect: writes },
  { route: "GET /api/v1/executions", service: OrderService, method: "listExecutions", request: async (c, x) => forAlice(c, x), expect: own },
  { route: "GET /api/v1/positions", service: OrderService, method: "getPositions", request: async (c, x) => forAlice(c, x), expect: own },
  { route: "GET /api/v1/instruments", service: MarketDataService, method: "listInstruments", request: async () => ({}), expect: public_ },
  { route: "GET /api/v1/book/{symbol}", service: MarketDataService, method: "getBook", request: async () => ({ symbol: "BTC-USD", depth: 5 }), expect: public_ },
  { route: "GET /api/analytics", service: AnalyticsService, method: "getAnalytics", request: async (c, x) => forAlice(c, x), expect: own },
  { route: "GET /api/analytics/daily-pnl", service: AnalyticsService, method: "getDailyPnl", request: async (c, x) => forAlice(c, x), expect: own },
  { route: "GET /api/analytics/symbols", service: AnalyticsService, method: "getSymbolStats", request: async (c, x) => forAlice(c, x), expect: own },
];

/**
 * The REST request of `route` for an RPC request in proto JSON, as the google.api.http rules map
 * it: path variables from their fields, the rest as the body (POST, PATCH: `body: "*"`) or as
 * query parameters (GET, DELETE).
 */
export function restRequestOf(route: string, request: Record<string, unknown>): { method: string; path: string; body?: unknown } {
  const [method = "", template = ""] = route.split(" ");
  const rest = { ...request };
  const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const field = name.replace(/_(\w)/g, (_m, letter: string) => letter.toUpperCase());
    const value = rest[field];
    if (value === undefined) throw new Error(`${route}: the request has no ${field} for {${name}}`);
    delete rest[field];
    return encodeURIComponent(String(value));
  });
  if (method === "POST" || method === "PATCH") return { method, path, body: rest };
  const query = new URLSearchParams(Object.entries(rest).map(([name, value]): [string, string] => [name, String(value)])).toString();
  return { method, path: query ? `${path}?${query}` : path };
}
