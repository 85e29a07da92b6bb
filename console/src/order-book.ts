/**
 * The watched symbol's book as the market data stream builds it: a snapshot, then the levels that
 * changed (a quantity of "0" removes a level), and the latest trades, newest first.
 */
import type { PriceLevel, PublicTrade, StreamMarketDataResponse } from "@hft/sdk/web";
import { toUnits } from "@hft/service-kit/decimal";

export interface BookView {
  readonly symbol: string;
  readonly sequence: bigint;
  /** Best first: highest bid, lowest ask. */
  readonly bids: readonly PriceLevel[];
  readonly asks: readonly PriceLevel[];
  readonly trades: readonly PublicTrade[];
  readonly lastTradePrice: string;
}

export const emptyBook = (symbol: string): BookView => ({ symbol, sequence: 0n, bids: [], asks: [], trades: [], lastTradePrice: "" });

const tradesKept = 50;

export function applyMarketData(book: BookView, update: StreamMarketDataResponse, depth = 10): BookView {
  if (update.sequence < book.sequence) return book;
  const { case: kind, value } = update.update;
  switch (kind) {
    case "snapshot":
      return { ...book, sequence: update.sequence, bids: value.bids, asks: value.asks, lastTradePrice: value.lastTradePrice || book.lastTradePrice };
    case "l2":
      return {
        ...book,
        sequence: update.sequence,
        bids: mergeLevels(book.bids, value.bids, "bid").slice(0, depth),
        asks: mergeLevels(book.asks, value.asks, "ask").slice(0, depth),
      };
    case "trade":
      return { ...book, sequence: update.sequence, trades: [value, ...book.trades].slice(0, tradesKept), lastTradePrice: value.price };
    default:
      return { ...book, sequence: update.sequence };
  }
}

/** Prices compared exactly: as whole numbers at the larger of the two scales. */
function comparePrices(a: string, b: string): number {
  const scale = Math.max(decimals(a), decimals(b));
  const unit = scale === 0 ? "1" : `0.${"0".repeat(scale - 1)}1`;
  const [x, y] = [toUnits(a, unit, "price", { allowZero: true }), toUnits(b, unit, "price", { allowZero: true })];
  return x < y ? -1 : x > y ? 1 : 0;
}

const decimals = (price: string) => (price.includes(".") ? price.length - price.indexOf(".") - 1 : 0);

function mergeLevels(levels: readonly PriceLevel[], changes: readonly PriceLevel[], side: "bid" | "ask"): PriceLevel[] {
  const merged = new Map(levels.map((level) => [level.price, level]));
  for (const change of changes) {
    const existing = [...merged.keys()].find((price) => comparePrices(price, change.price) === 0);
    if (existing !== undefined) merged.delete(existing);
    if (!/^0*(\.0*)?$/.test(change.quantity)) merged.set(change.price, change);
  }
  const sorted = [...merged.values()].sort((a, b) => comparePrices(a.price, b.price));
  return side === "bid" ? sorted.reverse() : sorted;
}
