/**
 * One batch of new fills applied to the FIFO books in stream order, and what the batch changes:
 * per account and symbol the figures to add, per account, symbol and UTC day the daily figures to
 * add, the open lots to delete and insert, and the newest trade price per instrument. Pure: the
 * store loads the books before and writes the changes after, in one transaction.
 */
import { Decimal } from "./decimal.js";
import { type FifoBook, type Lot } from "./fifo.js";
import type { ParsedFill } from "./fill.js";
import { type SymbolFigures, figuresOfFill, mergeFigures } from "./trading-stats.js";
import { utcDay } from "./utc-day.js";

/** A new fill with the numeric ids of its account and instrument. */
export interface BookedFill extends ParsedFill {
  readonly accountId: string;
  readonly instrumentId: number;
}

/** One UTC day's additive figures of an account in a symbol. */
export interface DailyFigures {
  readonly realizedPnl: Decimal;
  readonly fees: Decimal;
  readonly tradeCount: bigint;
  readonly volume: Decimal;
}

export interface SymbolChange {
  readonly accountId: string;
  readonly instrumentId: number;
  readonly figures: SymbolFigures;
}

export interface DailyChange {
  readonly accountId: string;
  readonly instrumentId: number;
  /** "YYYY-MM-DD", UTC. */
  readonly day: string;
  readonly figures: DailyFigures;
}

export interface LotChange {
  readonly accountId: string;
  readonly instrumentId: number;
  /** Lot numbers of the lots closed entirely: their rows go. */
  readonly removed: readonly bigint[];
  /** Lots partly closed: their rows keep the number and get the quantity left. */
  readonly reduced: readonly Lot[];
  /** Lots opened: new rows. */
  readonly added: readonly Lot[];
}

/** The newest trade of an instrument: the mark for unrealized P&L. */
export interface LastPrice {
  readonly instrumentId: number;
  readonly price: Decimal;
  readonly sequence: bigint;
  readonly tradeId: bigint;
  readonly tradedAt: Date;
}

export interface BatchFigures {
  readonly symbols: readonly SymbolChange[];
  readonly days: readonly DailyChange[];
  readonly lots: readonly LotChange[];
  /** Ordered by instrument id, so concurrent writers lock the rows in one order. */
  readonly lastPrices: readonly LastPrice[];
}

/** Supplies the book of an account in an instrument, restored with its open lots. */
export type BookSource = (accountId: string, instrumentId: number, symbol: string) => FifoBook;

const bookKey = (accountId: string, instrumentId: number) => `${accountId}/${instrumentId}`;

/**
 * Applies `fills` (new fills only, in stream order) to the books `bookOf` supplies, each book
 * asked for once. Realized P&L lands on the UTC day of the closing fill.
 */
export function applyFills(fills: readonly BookedFill[], bookOf: BookSource): BatchFigures {
  const books = new Map<string, { accountId: string; instrumentId: number; book: FifoBook; before: readonly Lot[] }>();
  const symbols = new Map<string, SymbolChange>();
  const days = new Map<string, DailyChange>();
  const lastPrices = new Map<number, LastPrice>();

  for (const fill of fills) {
    const key = bookKey(fill.accountId, fill.instrumentId);
    let entry = books.get(key);
    if (!entry) {
      const book = bookOf(fill.accountId, fill.instrumentId, fill.symbol);
      entry = { accountId: fill.accountId, instrumentId: fill.instrumentId, book, before: book.lots() };
      books.set(key, entry);
    }
    const outcome = entry.book.apply(fill);
    const figures = figuresOfFill({ price: fill.price, quantity: fill.quantity, fee: fill.fee, executedAt: fill.executedAt, outcome });

    const symbol = symbols.get(key);
    symbols.set(key, { accountId: fill.accountId, instrumentId: fill.instrumentId, figures: symbol ? mergeFigures(symbol.figures, figures) : figures });

    const day = utcDay(fill.executedAt);
    const dayKey = `${key}/${day}`;
    const daily = days.get(dayKey)?.figures;
    days.set(dayKey, {
      accountId: fill.accountId,
      instrumentId: fill.instrumentId,
      day,
      figures: {
        realizedPnl: (daily?.realizedPnl ?? Decimal.ZERO).add(outcome.realizedPnl),
        fees: (daily?.fees ?? Decimal.ZERO).add(fill.fee),
        tradeCount: (daily?.tradeCount ?? 0n) + 1n,
        volume: (daily?.volume ?? Decimal.ZERO).add(fill.quantity),
      },
    });

    const trade: LastPrice = { instrumentId: fill.instrumentId, price: fill.price, sequence: fill.sequence, tradeId: BigInt(fill.tradeId), tradedAt: fill.executedAt };
    const last = lastPrices.get(fill.instrumentId);
    if (!last || isNewerTrade(trade, last)) lastPrices.set(fill.instrumentId, trade);
  }

  const lots: LotChange[] = [];
  for (const { accountId, instrumentId, book, before } of books.values()) {
    const change = lotChange(before, book.lots());
    if (change.removed.length + change.reduced.length + change.added.length > 0) lots.push({ accountId, instrumentId, ...change });
  }
  return {
    symbols: [...symbols.values()],
    days: [...days.values()],
    lots,
    lastPrices: [...lastPrices.values()].sort((a, b) => a.instrumentId - b.instrumentId),
  };
}

/**
 * Whether trade `a` comes after trade `b` of the same instrument: a later engine sequence, or the
 * same sequence (one order sweeping several levels) and a later trade id. The order does not
 * depend on which consumer saw which side first, so a rebuild finds the same mark.
 */
export function isNewerTrade(a: Pick<LastPrice, "sequence" | "tradeId">, b: Pick<LastPrice, "sequence" | "tradeId">): boolean {
  return a.sequence > b.sequence || (a.sequence === b.sequence && a.tradeId > b.tradeId);
}

/**
 * The row changes that turn the lots `before` into `after` (lot numbers identify rows; a book
 * never reuses a number, so a number is removed, reduced or added, never two of them).
 */
export function lotChange(before: readonly Lot[], after: readonly Lot[]): Pick<LotChange, "removed" | "reduced" | "added"> {
  const now = new Map(after.map((lot) => [lot.lotSeq, lot]));
  const previous = new Set(before.map((lot) => lot.lotSeq));
  const removed: bigint[] = [];
  const reduced: Lot[] = [];
  for (const lot of before) {
    const left = now.get(lot.lotSeq);
    if (!left) removed.push(lot.lotSeq);
    else if (!left.quantity.equals(lot.quantity)) reduced.push(left);
  }
  return { removed, reduced, added: after.filter((lot) => !previous.has(lot.lotSeq)) };
}
