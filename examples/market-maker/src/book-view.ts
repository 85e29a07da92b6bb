/**
 * One symbol's aggregated book as StreamMarketData shows it (a snapshot, then level deltas), in
 * ticks and lots, with the best prices of the others: the market maker's own resting quantity is
 * taken off its levels so that it never quotes around itself.
 */
import type { Book, BookDelta, PriceLevel } from "@hft/sdk";
import { toSteps } from "./decimal-steps.js";

export interface Instrument {
  readonly symbol: string;
  readonly tickSize: string;
  readonly lotSize: string;
}

/** The market maker's own resting quantity at a price: ticks → lots. */
export type OwnLevels = ReadonlyMap<bigint, bigint>;

export interface BookView {
  applySnapshot(book: Book): void;
  applyDelta(delta: BookDelta): void;
  applyTrade(price: string): void;
  /** Highest bid price with quantity beyond `own`, in ticks. */
  bestBid(own: OwnLevels): bigint | undefined;
  bestAsk(own: OwnLevels): bigint | undefined;
  lastTrade(): bigint | undefined;
}

export function createBookView(instrument: Instrument): BookView {
  const bids = new Map<bigint, bigint>();
  const asks = new Map<bigint, bigint>();
  let last: bigint | undefined;
  const ticks = (price: string) => toSteps(price, instrument.tickSize, `${instrument.symbol} price`);
  const lots = (quantity: string) => toSteps(quantity, instrument.lotSize, `${instrument.symbol} quantity`);

  function applyLevels(side: Map<bigint, bigint>, levels: readonly PriceLevel[]) {
    for (const level of levels) {
      const quantity = lots(level.quantity);
      if (quantity === 0n) side.delete(ticks(level.price));
      else side.set(ticks(level.price), quantity);
    }
  }

  function best(side: Map<bigint, bigint>, own: OwnLevels, better: (a: bigint, b: bigint) => boolean) {
    let found: bigint | undefined;
    for (const [price, quantity] of side) {
      if (quantity - (own.get(price) ?? 0n) <= 0n) continue;
      if (found === undefined || better(price, found)) found = price;
    }
    return found;
  }

  return {
    applySnapshot(book) {
      bids.clear();
      asks.clear();
      applyLevels(bids, book.bids);
      applyLevels(asks, book.asks);
      if (book.lastTradePrice) last = ticks(book.lastTradePrice);
    },
    applyDelta(delta) {
      applyLevels(bids, delta.bids);
      applyLevels(asks, delta.asks);
    },
    applyTrade(price) {
      last = ticks(price);
    },
    bestBid: (own) => best(bids, own, (a, b) => a > b),
    bestAsk: (own) => best(asks, own, (a, b) => a < b),
    lastTrade: () => last,
  };
}
