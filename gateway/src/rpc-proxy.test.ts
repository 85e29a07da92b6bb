import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetOrderResponseSchema, OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { OrderStatus } from "@hft/contract/es/hft/v1/types_pb.js";
import { forwardedMethod } from "./rpc-proxy.js";

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
