import { describe, expect, it } from "vitest";
import { OrderServiceService, PlaceOrderRequest } from "@hft/contract/grpc/hft/v1/order_service.js";
import { OrderType, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { orderServiceDefinition, receivedBytes } from "./service-definitions.js";

describe("orderServiceDefinition", () => {
  const request: PlaceOrderRequest = {
    clientOrderId: "c-1",
    symbol: "AAPL",
    side: Side.SIDE_BUY,
    type: OrderType.ORDER_TYPE_LIMIT,
    timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
    price: "100.5",
    stopPrice: "",
    quantity: "2",
    displayQuantity: "",
    postOnly: false,
    selfTradePrevention: 0,
    account: "",
  };

  it("decodes requests as the generated definition does, keeping the bytes they arrived as", () => {
    const wire = Buffer.from(PlaceOrderRequest.encode(request).finish());
    const decoded = orderServiceDefinition.placeOrder.requestDeserialize(wire);
    expect(decoded).toEqual(OrderServiceService.placeOrder.requestDeserialize(wire));
    expect(receivedBytes(decoded)).toBe(wire);
    expect(receivedBytes({ ...decoded })).toBeUndefined();
  });

  it("hands bytes that do not decode on as a blank request with those bytes, for validation to refuse", () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => OrderServiceService.placeOrder.requestDeserialize(garbage)).toThrow();
    const decoded = orderServiceDefinition.placeOrder.requestDeserialize(garbage);
    expect(decoded).toEqual({});
    expect(receivedBytes(decoded)).toBe(garbage);
  });

  it("keeps every method of the service, with its path", () => {
    expect(Object.keys(orderServiceDefinition).sort()).toEqual(Object.keys(OrderServiceService).sort());
    for (const [name, method] of Object.entries(orderServiceDefinition)) expect(method.path).toBe(OrderServiceService[name as keyof typeof OrderServiceService].path);
  });
});
