import { create } from "@bufbuild/protobuf";
import { BookDeltaSchema, BookSchema } from "@hft/sdk";
import { describe, expect, it } from "vitest";
import { createBookView } from "./book-view.js";

const instrument = { symbol: "BTC-USD", tickSize: "0.01", lotSize: "0.0001" };
const level = (price: string, quantity: string) => ({ price, quantity, orderCount: 1 });

function bookWithLevels() {
  const view = createBookView(instrument);
  view.applySnapshot(
    create(BookSchema, {
      symbol: "BTC-USD",
      bids: [level("25000.05", "0.01"), level("24999.90", "0.5")],
      asks: [level("25000.15", "0.03"), level("25000.30", "0.01")],
      lastTradePrice: "25000.1",
    }),
  );
  return view;
}

describe("createBookView", () => {
  it("gives the best bid and offer of the snapshot in ticks, and the last trade", () => {
    const view = bookWithLevels();
    expect([view.bestBid(new Map()), view.bestAsk(new Map()), view.lastTrade()]).toEqual([2_500_005n, 2_500_015n, 2_500_010n]);
  });
  it("leaves out a level that holds only the market maker's own quantity, and keeps one where others rest too", () => {
    const view = bookWithLevels();
    const own = new Map([
      [2_500_005n, 100n], // the whole 0.01 bid level
      [2_500_015n, 100n], // 0.01 of the 0.03 ask level
    ]);
    expect([view.bestBid(own), view.bestAsk(own)]).toEqual([2_499_990n, 2_500_015n]);
  });
  it("applies deltas, a quantity of 0 removing the level", () => {
    const view = bookWithLevels();
    view.applyDelta(create(BookDeltaSchema, { bids: [level("25000.05", "0"), level("25000.01", "0.2")], asks: [level("25000.12", "0.1")] }));
    expect([view.bestBid(new Map()), view.bestAsk(new Map())]).toEqual([2_500_001n, 2_500_012n]);
  });
  it("refuses a price off the instrument's tick, naming it", () => {
    const view = createBookView(instrument);
    expect(() => view.applyTrade("25000.001")).toThrow('BTC-USD price "25000.001" is not a multiple of 0.01');
  });
});
