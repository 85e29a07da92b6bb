import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { InstrumentSchema, OrderType, Side, TimeInForce, TradingStatus } from "@hft/sdk/web";
import { type OrderTicket, checkTicket, newClientOrderId, placeOrderRequest, timesInForceFor } from "./order-ticket.js";
import { btc } from "./test-fixtures.js";

const ticket = (fields: Partial<OrderTicket> = {}): OrderTicket => ({
  symbol: "BTC-USD",
  side: Side.BUY,
  type: OrderType.LIMIT,
  timeInForce: TimeInForce.GTC,
  price: "100.25",
  stopPrice: "",
  quantity: "0.5",
  ...fields,
});

describe("checkTicket", () => {
  it("passes a limit order on the tick and lot, inside the band and the quantity limits", () => {
    expect(checkTicket(ticket(), btc)).toEqual({});
  });

  it("names a price off the tick, outside the band, malformed or missing", () => {
    expect(checkTicket(ticket({ price: "100.255" }), btc).price).toBe("Price must be a multiple of 0.01 (the tick size)");
    expect(checkTicket(ticket({ price: "0.99" }), btc).price).toBe("Price must be between 1.00 and 1000000.00");
    expect(checkTicket(ticket({ price: "1000000.01" }), btc).price).toBe("Price must be between 1.00 and 1000000.00");
    expect(checkTicket(ticket({ price: "1e3" }), btc).price).toBe("Price must be a number like 0.01");
    expect(checkTicket(ticket({ price: " " }), btc).price).toBe("Price is required for this order type");
    expect(checkTicket(ticket({ price: "0" }), btc).price).toBe("Price must be greater than zero");
  });

  it("names a quantity off the lot, below the minimum or above the maximum", () => {
    expect(checkTicket(ticket({ quantity: "0.0005" }), btc).quantity).toBe("Quantity must be a multiple of 0.001 (the lot size)");
    expect(checkTicket(ticket({ quantity: "100.001" }), btc).quantity).toBe("Quantity must be at most 100");
    expect(checkTicket(ticket({ quantity: "" }), btc).quantity).toBe("Quantity is required");
    const bigLots = create(InstrumentSchema, { ...btc, minQuantity: "0.010" });
    expect(checkTicket(ticket({ quantity: "0.009" }), bigLots).quantity).toBe("Quantity must be at least 0.010");
  });

  it("asks for a stop price on stop orders, and for no price on market orders", () => {
    expect(checkTicket(ticket({ type: OrderType.STOP, price: "", timeInForce: TimeInForce.GTC }), btc)).toEqual({ stopPrice: "Stop price is required for this order type" });
    expect(checkTicket(ticket({ type: OrderType.STOP_LIMIT, stopPrice: "99.5" }), btc)).toEqual({});
    expect(checkTicket(ticket({ type: OrderType.MARKET, price: "garbage", timeInForce: TimeInForce.IOC }), btc)).toEqual({});
  });

  it("refuses a resting time in force on a market order", () => {
    expect(timesInForceFor(OrderType.MARKET)).toEqual([TimeInForce.IOC, TimeInForce.FOK]);
    expect(checkTicket(ticket({ type: OrderType.MARKET, timeInForce: TimeInForce.GTC }), btc).timeInForce).toMatch(/market order/);
  });

  it("refuses an unknown symbol and a halted instrument", () => {
    expect(checkTicket(ticket({ symbol: "DOGE-USD" }), undefined).symbol).toBe("DOGE-USD is not a listed instrument");
    expect(checkTicket(ticket({ symbol: "" }), undefined).symbol).toBe("Choose a symbol");
    const halted = create(InstrumentSchema, { ...btc, tradingStatus: TradingStatus.HALTED });
    expect(checkTicket(ticket(), halted).symbol).toBe("BTC-USD is halted: it takes no orders now");
  });
});

describe("placeOrderRequest", () => {
  it("sends only the prices the type carries, trimmed", () => {
    expect(placeOrderRequest(ticket({ price: " 100.25 ", stopPrice: "99" }), "id-1")).toEqual({
      clientOrderId: "id-1",
      symbol: "BTC-USD",
      side: Side.BUY,
      type: OrderType.LIMIT,
      timeInForce: TimeInForce.GTC,
      price: "100.25",
      stopPrice: "",
      quantity: "0.5",
    });
    expect(placeOrderRequest(ticket({ type: OrderType.STOP, stopPrice: "99" }), "id-2")).toMatchObject({ price: "", stopPrice: "99" });
  });

  it("makes client order ids the platform accepts, different every time", () => {
    const ids = new Set(Array.from({ length: 100 }, newClientOrderId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._:-]{1,40}$/);
  });
});
