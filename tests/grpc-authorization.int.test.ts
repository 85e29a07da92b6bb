/**
 * The gateway's authorization matrix (gateway/tests/authorization-matrix.ts) straight against the
 * backends' gRPC ports, no gateway in between: the order service (OrderService, MarketDataService)
 * and the analytics service verify the token and the account themselves, so every route × caller
 * gets the same outcome as through the gateway.
 */
import { type DescMethodUnary, fromJson } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AnalyticsService } from "@hft/contract/es/hft/v1/analytics_service_pb.js";
import { OrderService, PlaceOrderRequestSchema } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Caller, type MatrixContext, type Outcome, type RouteCase, aliceOrder, callers, expectedOutcome, routeCases, tokenOf } from "../gateway/tests/authorization-matrix.js";
import { type Platform, startPlatform } from "../gateway/tests/platform.js";

let platform: Platform;
let orderTransport: Transport;
let analyticsTransport: Transport;

beforeAll(async () => {
  platform = await startPlatform();
  orderTransport = createGrpcTransport({ baseUrl: `http://${platform.orders.address}` });
  analyticsTransport = createGrpcTransport({ baseUrl: `http://${platform.analyticsAddress}` });
});
afterAll(async () => platform?.stop());

const outcomeOf: Partial<Record<Code, Outcome>> = { [Code.Unauthenticated]: "unauthenticated", [Code.PermissionDenied]: "permission_denied", [Code.NotFound]: "not_found" };

/** Calls `routeCase`'s RPC on its backend with `request` as `token`; the outcome, or the unexpected code and message. */
async function outcomeOfCall(routeCase: RouteCase, request: Record<string, unknown>, token: string | undefined): Promise<Outcome | string> {
  const method = routeCase.service.method[routeCase.method] as DescMethodUnary | undefined;
  if (!method) throw new Error(`${routeCase.service.typeName} has no method ${routeCase.method}`);
  const transport = routeCase.service === AnalyticsService ? analyticsTransport : orderTransport;
  try {
    await transport.unary(method, undefined, 10_000, token ? { authorization: `Bearer ${token}` } : {}, fromJson(method.input, request as never));
    return "ok";
  } catch (error) {
    const failure = ConnectError.from(error);
    return outcomeOf[failure.code] ?? `${Code[failure.code]}: ${failure.rawMessage}`;
  }
}

let sequence = 0;
const context = (): MatrixContext => ({
  accounts: platform.accounts,
  clientOrderId: () => `grpc-m-${sequence++}`,
  async placeForAlice() {
    const token = await tokenOf(platform, "trader");
    const placed = await orderTransport.unary(OrderService.method.placeOrder, undefined, 10_000, { authorization: `Bearer ${token}` }, fromJson(PlaceOrderRequestSchema, aliceOrder(`grpc-own-${sequence++}`)));
    return placed.message.order!.orderId;
  },
});

describe("authorization on direct gRPC: every route × every kind of caller, as the gateway's matrix expects", () => {
  it.each(routeCases.map((c) => [`${c.service.typeName}/${c.service.method[c.method]?.name} (${c.route})`, c] as const))("%s", async (_name, routeCase) => {
    const seen: Partial<Record<Caller, Outcome | string>> = {};
    const wanted: Partial<Record<Caller, Outcome>> = {};
    for (const caller of callers) {
      seen[caller] = await outcomeOfCall(routeCase, await routeCase.request(caller, context()), await tokenOf(platform, caller));
      wanted[caller] = expectedOutcome(routeCase, caller);
    }
    expect(seen).toEqual(wanted);
  });
});
