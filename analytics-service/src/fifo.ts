/**
 * The FIFO position book of one account in one symbol. A fill first closes lots on the opposite
 * side, oldest first, splitting the last one it reaches; whatever quantity is left opens a new lot
 * on the fill's side, so one fill can flip a position from long to short. All open lots are
 * therefore on the same side.
 *
 * Not thread-safe by design: one consumer owns an account's books.
 */
import { Decimal } from "./decimal.js";
import type { ParsedFill } from "./fill.js";

/** What a book needs of a fill. */
export type BookFill = Pick<ParsedFill, "symbol" | "side" | "price" | "quantity" | "executedAt">;

/** An open lot: quantity still open at its entry price. */
export interface Lot {
  /** Positive for a long lot, negative for a short one; never zero. */
  readonly quantity: Decimal;
  /** Entry price, positive. */
  readonly price: Decimal;
  readonly openedAt: Date;
  /**
   * The lot's number within its book, increasing with every lot opened; the key of its row. A lot
   * keeps its number when a fill closes part of it.
   */
  readonly lotSeq: bigint;
}

/** What one fill did to the book. */
export interface FillOutcome {
  /**
   * Sum over the lots it closed of (exit − entry) × closed quantity, the quantity signed as the
   * lot (so a short covered below its entry gains). "0" when it closed nothing.
   */
  readonly realizedPnl: Decimal;
  /** Quantity that closed existing lots; "0" when none. */
  readonly closedQuantity: Decimal;
  /** Quantity that opened a new lot; "0" when none. */
  readonly openedQuantity: Decimal;
  /** Whether the fill closed any quantity (a flip is both closing and opening). */
  readonly closing: boolean;
}

export interface FifoBook {
  readonly symbol: string;
  /** Open lots, oldest first. */
  lots(): readonly Lot[];
  /** The signed open position: sum of the lots' quantities. */
  netQuantity(): Decimal;
  /** Applies a fill of this book's symbol. */
  apply(fill: BookFill): FillOutcome;
  /** Sum over open lots of (mark − entry) × signed quantity. */
  unrealizedPnl(mark: Decimal): Decimal;
}

/**
 * A book for `symbol`, optionally restored with its open `lots` (oldest first). Throws a
 * RangeError when the lots break the book's invariants: a zero quantity, a price not above zero,
 * lots on both sides, or lot numbers not increasing.
 */
export function createFifoBook(symbol: string, lots: readonly Lot[] = []): FifoBook {
  const open: Lot[] = [];
  let net = Decimal.ZERO;
  let nextLotSeq = 1n;
  for (const [index, lot] of lots.entries()) {
    if (lot.quantity.isZero()) throw new RangeError(`${symbol} lot ${index}: quantity must not be zero`);
    if (lot.price.sign() <= 0) throw new RangeError(`${symbol} lot ${index}: price ${lot.price} must be greater than zero`);
    if (open.length > 0 && open[0]!.quantity.sign() !== lot.quantity.sign()) {
      throw new RangeError(`${symbol} lot ${index}: lots must all be long or all be short`);
    }
    if (lot.lotSeq < nextLotSeq) throw new RangeError(`${symbol} lot ${index}: lot number ${lot.lotSeq} must be above the previous lot's`);
    open.push(lot);
    net = net.add(lot.quantity);
    nextLotSeq = lot.lotSeq + 1n;
  }

  function apply(fill: BookFill): FillOutcome {
    if (fill.symbol !== symbol) throw new RangeError(`fill of ${fill.symbol} applied to the book of ${symbol}`);
    const direction = fill.side === "buy" ? 1 : -1;
    let remaining = fill.quantity;
    let realizedPnl = Decimal.ZERO;
    let closedQuantity = Decimal.ZERO;

    while (!remaining.isZero() && open.length > 0 && open[0]!.quantity.sign() !== direction) {
      const lot = open[0]!;
      const lotSize = lot.quantity.abs();
      const closesWholeLot = lotSize.compare(remaining) <= 0;
      const taken = closesWholeLot ? lotSize : remaining;
      // The closed part signed as the lot: positive when closing a long, negative for a short.
      const closedSigned = lot.quantity.sign() > 0 ? taken : taken.negate();
      realizedPnl = realizedPnl.add(fill.price.subtract(lot.price).multiply(closedSigned));
      if (closesWholeLot) open.shift();
      else open[0] = { ...lot, quantity: lot.quantity.subtract(closedSigned) };
      net = net.subtract(closedSigned);
      remaining = remaining.subtract(taken);
      closedQuantity = closedQuantity.add(taken);
    }

    if (!remaining.isZero()) {
      const quantity = direction > 0 ? remaining : remaining.negate();
      open.push({ quantity, price: fill.price, openedAt: fill.executedAt, lotSeq: nextLotSeq });
      nextLotSeq += 1n;
      net = net.add(quantity);
    }
    return { realizedPnl, closedQuantity, openedQuantity: remaining, closing: !closedQuantity.isZero() };
  }

  function unrealizedPnl(mark: Decimal): Decimal {
    let total = Decimal.ZERO;
    for (const lot of open) total = total.add(mark.subtract(lot.price).multiply(lot.quantity));
    return total;
  }

  return {
    symbol,
    lots: function lots() {
      return open.slice();
    },
    netQuantity: function netQuantity() {
      return net;
    },
    apply,
    unrealizedPnl,
  };
}
