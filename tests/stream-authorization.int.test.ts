/**
 * The authorization matrix's rules on the streaming RPCs, which have no REST route: every kind of
 * caller on StreamOrderUpdates (reads the caller's own account), OrderEntry (places for it) and
 * StreamMarketData (public), straight at the order service's gRPC port and through the gateway,
 * with the same outcome on both paths.
 */
import { fromJson } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MarketDataService } from "@hft/contract/es/hft/v1/market_data_service_pb.js";
import { OrderService, PlaceOrderRequestSchema } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Caller, type Outcome, aliceOrder, callers, forAlice, own, public_, tokenOf, writes } from "../gateway/tests/authorization-matrix.js";
import { type Platform, startPlatform } from "../gateway/tests/platform.js";

let platform: Platform;
const paths: Record<"direct" | "gateway", Transport> = {} as never;

beforeAll(async () => {
  platform = await startPlatform();
  const gateway = await platform.startGateway();
  paths.direct = createGrpcTransport({ baseUrl: `http://${platform.orders.address}` });
  paths.gateway = createGrpcTransport({ baseUrl: gateway.url });
  // Every account read has history, so an allowed stream always yields a first message: alice's
  // own order, and one an admin places for vera (a viewer cannot place).
  const orders = createClient(OrderService, paths.direct);
  const as = async (caller: Caller) => ({ headers: { authorization: `Bearer ${await tokenOf(platform, caller)}` } });
  await orders.placeOrder(fromJson(PlaceOrderRequestSchema, aliceOrder("stream-authz-alice")), await as("trader"));
  await orders.placeOrder(fromJson(PlaceOrderRequestSchema, aliceOrder("stream-authz-vera", { account: platform.accounts.vera })), await as("admin"));
});
afterAll(async () => platform?.stop());

const outcomeOf: Partial<Record<Code, Outcome>> = { [Code.Unauthenticated]: "unauthenticated", [Code.PermissionDenied]: "permission_denied", [Code.NotFound]: "not_found" };
const failureOf = (code: Code, message: string): Outcome | string => outcomeOf[code] ?? `${Code[code]}: ${message}`;

interface StreamCase {
  readonly rpc: string;
  readonly expect: Partial<Record<Caller, Outcome>>;
  /** The caller's first answer on the stream: a message (ok), or the refusal. */
  first(transport: Transport, caller: Caller, options: { headers: Record<string, string>; signal: AbortSignal }): Promise<Outcome | string>;
}

let placed = 0;
const streamCases: readonly StreamCase[] = [
  {
    rpc: "StreamOrderUpdates",
    expect: own,
    async first(transport, caller, options) {
      const stream = createClient(OrderService, transport).streamOrderUpdates({ fromSequence: 1n, ...forAlice(caller, platform) }, options);
      for await (const _update of stream) return "ok";
      return "ended without a message";
    },
  },
  {
    rpc: "OrderEntry (place)",
    expect: writes,
    async first(transport, caller, options) {
      async function* place() {
        yield { requestId: 1n, action: { case: "place" as const, value: fromJson(PlaceOrderRequestSchema, aliceOrder(`stream-authz-${placed++}`, forAlice(caller, platform))) } };
      }
      for await (const response of createClient(OrderService, transport).orderEntry(place(), options)) {
        if (response.requestId !== 1n) continue;
        return response.result.case === "error" ? failureOf(response.result.value.code, response.result.value.message) : "ok";
      }
      return "ended without answering the place";
    },
  },
  {
    rpc: "StreamMarketData",
    expect: public_,
    async first(transport, _caller, options) {
      for await (const _update of createClient(MarketDataService, transport).streamMarketData({ symbols: ["BTC-USD"], depth: 5, includeL2: true }, options)) return "ok";
      return "ended without a message";
    },
  },
];

describe("authorization on the streaming RPCs: every kind of caller, direct and through the gateway", () => {
  it.each(streamCases.flatMap((c) => (["direct", "gateway"] as const).map((path) => [`${c.rpc}, ${path}`, c, path] as const)))("%s", async (_name, streamCase, path) => {
    const seen: Partial<Record<Caller, Outcome | string>> = {};
    const wanted: Partial<Record<Caller, Outcome>> = {};
    for (const caller of callers) {
      const token = await tokenOf(platform, caller);
      const signal = AbortSignal.timeout(10_000);
      seen[caller] = await streamCase.first(paths[path], caller, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal }).catch((error: unknown) => {
        const failure = ConnectError.from(error);
        return failureOf(failure.code, failure.rawMessage);
      });
      wanted[caller] = streamCase.expect[caller] ?? "unauthenticated";
    }
    expect(seen).toEqual(wanted);
  });
});
