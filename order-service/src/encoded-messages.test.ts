import { describe, expect, it } from "vitest";
import {
  type Execution,
  type Order,
  OrderEntryResponse,
  PlaceOrderResponse,
  StreamOrderUpdatesResponse,
} from "@hft/contract/grpc/hft/v1/order_service.js";
import { Liquidity, OrderStatus, OrderType, Side, TimeInForce } from "@hft/contract/grpc/hft/v1/types.js";
import { decodeOrderUpdate, encodeOrderEntryResponse, encodeOrderResponse, encodeOrderUpdate, encodedOrder } from "./encoded-messages.js";

const at = { seconds: 1_764_634_000n, nanos: 123_456_789 };
const order: Order = {
  orderId: "1000042",
  clientOrderId: "bench-7",
  account: "alice",
  symbol: "AAPL",
  side: Side.SIDE_BUY,
  type: OrderType.ORDER_TYPE_LIMIT,
  timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
  price: "100.05",
  stopPrice: "",
  quantity: "3",
  displayQuantity: "",
  filledQuantity: "1",
  remainingQuantity: "2",
  averageFillPrice: "100.05",
  status: OrderStatus.ORDER_STATUS_PARTIALLY_FILLED,
  rejectReason: 0,
  rejectMessage: "",
  cancelReason: 0,
  postOnly: false,
  selfTradePrevention: 0,
  createTime: at,
  updateTime: at,
  sequence: 77n,
};
const execution: Execution = {
  tradeId: "9",
  orderId: "1000042",
  clientOrderId: "bench-7",
  symbol: "AAPL",
  side: Side.SIDE_BUY,
  price: "100.05",
  quantity: "1",
  liquidity: Liquidity.LIQUIDITY_MAKER,
  fee: "0",
  executeTime: at,
  sequence: 77n,
  account: "alice",
};
const bytes = (encoded: { finish(): Uint8Array }) => Array.from(encoded.finish());

describe("the envelopes written from kept encodings", () => {
  it("write an order response as PlaceOrderResponse.encode does", () => {
    expect(Array.from(encodeOrderResponse({ order }))).toEqual(bytes(PlaceOrderResponse.encode({ order })));
    expect(Array.from(encodeOrderResponse({ order: undefined }))).toEqual([]);
  });

  it.each([
    ["an answer", { requestId: 12n, result: { $case: "order" as const, value: order }, execution: undefined }],
    ["a refusal", { requestId: 13n, result: { $case: "error" as const, value: { code: 9, reason: "RISK_MAX_NOTIONAL", message: "too large" } }, execution: undefined }],
    ["an unsolicited update with its fill", { requestId: 0n, result: { $case: "order" as const, value: order }, execution }],
    ["an empty response", { requestId: 0n, result: undefined, execution: undefined }],
  ])("write %s as OrderEntryResponse.encode does", (_, response) => {
    expect(Array.from(encodeOrderEntryResponse(response))).toEqual(bytes(OrderEntryResponse.encode(response)));
  });

  it("write an order update as StreamOrderUpdatesResponse.encode does", () => {
    for (const update of [{ order, execution }, { order, execution: undefined }]) {
      expect(Array.from(encodeOrderUpdate(update))).toEqual(bytes(StreamOrderUpdatesResponse.encode(update)));
    }
  });

  it("encode an order once and reuse the bytes", () => {
    expect(encodedOrder(order)).toBe(encodedOrder(order));
  });
});

describe("decodeOrderUpdate", () => {
  it("decodes as the generated decoder does, skipping unknown fields", () => {
    const encoded = StreamOrderUpdatesResponse.encode({ order, execution }).finish();
    const withUnknown = new Uint8Array([...encoded, 0x18, 0x05]); // field 3, varint 5
    expect(decodeOrderUpdate(withUnknown)).toEqual(StreamOrderUpdatesResponse.decode(encoded));
  });

  it("keeps the received bytes of the order for the next encoding", () => {
    const encoded = StreamOrderUpdatesResponse.encode({ order, execution: undefined }).finish();
    const update = decodeOrderUpdate(encoded);
    expect(Array.from(encodedOrder(update.order!))).toEqual(bytes({ finish: () => encodedOrder(order) }));
    expect(Array.from(encodeOrderUpdate(update))).toEqual(Array.from(encoded));
  });
});
