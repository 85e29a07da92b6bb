import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetOrderResponseSchema, OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { OrderStatus } from "@hft/contract/es/hft/v1/types_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@hft/service-kit";
import { clientErrorOf, forwardedMethod } from "./rpc-proxy.js";

describe("clientErrorOf", () => {
  const logger = { error: () => undefined } as unknown as Logger;

  it("passes a backend's refusal through with its code, message and reason", () => {
    const refused = clientErrorOf(new ConnectError("order 7 is no longer open", Code.FailedPrecondition, { "hft-reason": "ORDER_NOT_OPEN" }), logger);
    expect([refused.code, refused.rawMessage, refused.metadata.get("hft-reason")]).toEqual([Code.FailedPrecondition, "order 7 is no longer open", "ORDER_NOT_OPEN"]);
  });

  it("answers a call the backend's connection dropped (stream reset with CANCEL) as UNAVAILABLE, to be retried", () => {
    const dropped = clientErrorOf(new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled), logger);
    expect([dropped.code, dropped.metadata.get("hft-reason")]).toEqual([Code.Unavailable, "BACKEND_DROPPED_CALL"]);
    expect(dropped.rawMessage).toContain("may or may not have been applied");
  });
});

describe("forwardedMethod", () => {
  const getOrder = OrderService.method.getOrder;

  it("keeps a method as it is for typed forwarding", () => {
    expect(forwardedMethod(getOrder, "typed")).toBe(getOrder);
  });

  it("forwards the bytes of a message exactly as they came, its path, kind and idempotency unchanged", () => {
    const wire = forwardedMethod(getOrder, "bytes");
    expect([wire.parent.typeName, wire.name, wire.methodKind, wire.idempotency]).toEqual([getOrder.parent.typeName, getOrder.name, getOrder.methodKind, getOrder.idempotency]);
    const response = toBinary(GetOrderResponseSchema, create(GetOrderResponseSchema, { order: { orderId: "42", symbol: "AAPL", price: "100.5", status: OrderStatus.NEW, sequence: 7n } }));
    expect(toBinary(wire.output, fromBinary(wire.output, response))).toEqual(response);
  });
});
