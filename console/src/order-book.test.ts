import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { type MessageInitShape } from "@bufbuild/protobuf";
import { Side, StreamMarketDataResponseSchema } from "@hft/sdk/web";
import { applyMarketData, emptyBook } from "./order-book.js";

const update = (sequence: number, init: MessageInitShape<typeof StreamMarketDataResponseSchema>["update"]) =>
  create(StreamMarketDataResponseSchema, { symbol: "BTC-USD", sequence: BigInt(sequence), update: init });
const level = (price: string, quantity: string) => ({ price, quantity, orderCount: 1 });
const prices = (levels: readonly { price: string }[]) => levels.map((l) => l.price);

describe("applyMarketData", () => {
  const snapshot = update(10, { case: "snapshot", value: { symbol: "BTC-USD", bids: [level("100.00", "1"), level("99.50", "2")], asks: [level("101.00", "1")], lastTradePrice: "100.50" } });

  it("starts from the snapshot, then adds, changes and removes levels keeping the best first", () => {
    let book = applyMarketData(emptyBook("BTC-USD"), snapshot);
    expect(book).toMatchObject({ sequence: 10n, lastTradePrice: "100.50" });
    book = applyMarketData(book, update(11, { case: "l2", value: { bids: [level("100.50", "3"), level("99.50", "0")], asks: [level("100.90", "4"), level("101.00", "5")] } }));
    expect(prices(book.bids)).toEqual(["100.50", "100.00"]);
    expect(prices(book.asks)).toEqual(["100.90", "101.00"]);
    expect(book.asks[1]!.quantity).toBe("5");
  });

  it("compares prices as numbers, whatever their written scale", () => {
    let book = applyMarketData(emptyBook("BTC-USD"), snapshot);
    book = applyMarketData(book, update(11, { case: "l2", value: { bids: [level("100", "0"), level("9.5", "1")] } }));
    expect(prices(book.bids)).toEqual(["99.50", "9.5"]);
  });

  it("keeps the newest trades first and their price as the last one", () => {
    let book = applyMarketData(emptyBook("BTC-USD"), snapshot);
    book = applyMarketData(book, update(12, { case: "trade", value: { tradeId: "1", price: "100.00", quantity: "1", aggressorSide: Side.SELL } }));
    book = applyMarketData(book, update(13, { case: "trade", value: { tradeId: "2", price: "99.50", quantity: "1", aggressorSide: Side.SELL } }));
    expect(book.trades.map((t) => t.tradeId)).toEqual(["2", "1"]);
    expect(book.lastTradePrice).toBe("99.50");
  });

  it("ignores an update older than what it has", () => {
    const book = applyMarketData(emptyBook("BTC-USD"), snapshot);
    expect(applyMarketData(book, update(9, { case: "l2", value: { bids: [level("100.00", "0")] } }))).toBe(book);
  });

  it("keeps at most the depth it shows", () => {
    const many = Array.from({ length: 15 }, (_, n) => level(`${90 + n}.00`, "1"));
    const book = applyMarketData(applyMarketData(emptyBook("BTC-USD"), snapshot), update(11, { case: "l2", value: { bids: many } }));
    expect(book.bids).toHaveLength(10);
    expect(book.bids[0]!.price).toBe("104.00");
  });
});
