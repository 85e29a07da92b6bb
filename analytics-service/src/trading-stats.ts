/**
 * The additive figures of one account in one symbol (what `analytics_symbol_stats` stores), how a
 * fill changes them, how they add up across symbols or accounts, and the statistics derived from
 * them for the API. Everything is exact except the two quotients (win rate, averages), which are
 * rounded half to even at {@link QUOTIENT_SCALE} decimals.
 */
import { Decimal } from "./decimal.js";
import type { FillOutcome } from "./fifo.js";

/** Decimals kept by the win rate and the average win and loss. */
export const QUOTIENT_SCALE = 10;

/** Sums and extremes that merge by adding (extremes by max/min). */
export interface SymbolFigures {
  /** Realized P&L of closed quantity, before fees. */
  readonly realizedPnl: Decimal;
  readonly fees: Decimal;
  /** Fills. */
  readonly tradeCount: bigint;
  /** Closing fills whose realized P&L is above zero. */
  readonly winningTrades: bigint;
  /** Closing fills whose realized P&L is below zero. */
  readonly losingTrades: bigint;
  /** Sum of the winning fills' realized P&L (zero or positive). */
  readonly totalWin: Decimal;
  /** Sum of the losing fills' realized P&L (zero or negative). */
  readonly totalLoss: Decimal;
  /** Best closing fill; zero before any win. */
  readonly largestWin: Decimal;
  /** Worst closing fill; zero before any loss. */
  readonly largestLoss: Decimal;
  /** Quantity traded. */
  readonly volume: Decimal;
  /** Sum of price × quantity. */
  readonly notional: Decimal;
  /** Time of the latest fill counted; undefined before any. */
  readonly lastFillAt: Date | undefined;
}

export const EMPTY_FIGURES: SymbolFigures = {
  realizedPnl: Decimal.ZERO,
  fees: Decimal.ZERO,
  tradeCount: 0n,
  winningTrades: 0n,
  losingTrades: 0n,
  totalWin: Decimal.ZERO,
  totalLoss: Decimal.ZERO,
  largestWin: Decimal.ZERO,
  largestLoss: Decimal.ZERO,
  volume: Decimal.ZERO,
  notional: Decimal.ZERO,
  lastFillAt: undefined,
};

/** What one fill adds to the figures: the fill's own numbers and what it did to the book. */
export interface FilledTrade {
  readonly price: Decimal;
  readonly quantity: Decimal;
  readonly fee: Decimal;
  readonly executedAt: Date;
  readonly outcome: FillOutcome;
}

/**
 * The figures of a single fill. A closing fill with a realized P&L of exactly zero is neither a
 * win nor a loss; an opening fill is neither either.
 */
export function figuresOfFill(trade: FilledTrade): SymbolFigures {
  const pnl = trade.outcome.realizedPnl;
  const win = trade.outcome.closing && pnl.sign() > 0;
  const loss = trade.outcome.closing && pnl.sign() < 0;
  return {
    realizedPnl: pnl,
    fees: trade.fee,
    tradeCount: 1n,
    winningTrades: win ? 1n : 0n,
    losingTrades: loss ? 1n : 0n,
    totalWin: win ? pnl : Decimal.ZERO,
    totalLoss: loss ? pnl : Decimal.ZERO,
    largestWin: win ? pnl : Decimal.ZERO,
    largestLoss: loss ? pnl : Decimal.ZERO,
    volume: trade.quantity,
    notional: trade.price.multiply(trade.quantity),
    lastFillAt: trade.executedAt,
  };
}

/** a and b together: sums added, the larger win, the deeper loss, the later fill time. */
export function mergeFigures(a: SymbolFigures, b: SymbolFigures): SymbolFigures {
  return {
    realizedPnl: a.realizedPnl.add(b.realizedPnl),
    fees: a.fees.add(b.fees),
    tradeCount: a.tradeCount + b.tradeCount,
    winningTrades: a.winningTrades + b.winningTrades,
    losingTrades: a.losingTrades + b.losingTrades,
    totalWin: a.totalWin.add(b.totalWin),
    totalLoss: a.totalLoss.add(b.totalLoss),
    largestWin: a.largestWin.compare(b.largestWin) >= 0 ? a.largestWin : b.largestWin,
    largestLoss: a.largestLoss.compare(b.largestLoss) <= 0 ? a.largestLoss : b.largestLoss,
    volume: a.volume.add(b.volume),
    notional: a.notional.add(b.notional),
    lastFillAt: a.lastFillAt === undefined || (b.lastFillAt !== undefined && b.lastFillAt > a.lastFillAt) ? b.lastFillAt : a.lastFillAt,
  };
}

/** The statistics of the API's `TradingStats`, as canonical decimal strings. */
export interface TradingStatsView {
  readonly realizedPnl: string;
  readonly unrealizedPnl: string;
  readonly totalPnl: string;
  readonly fees: string;
  readonly tradeCount: bigint;
  readonly winningTrades: bigint;
  readonly losingTrades: bigint;
  readonly winRate: string;
  readonly averageWin: string;
  readonly averageLoss: string;
  readonly largestWin: string;
  readonly largestLoss: string;
  readonly volume: string;
  readonly notional: string;
}

/**
 * The derived statistics: total P&L is realized plus unrealized minus fees; the win rate is wins
 * over wins plus losses ("0" before any closing fill with a P&L); averages are "0" without wins or
 * losses.
 */
export function tradingStats(figures: SymbolFigures, unrealizedPnl: Decimal): TradingStatsView {
  const decided = figures.winningTrades + figures.losingTrades;
  const quotient = (numerator: Decimal, count: bigint) => (count === 0n ? Decimal.ZERO : numerator.divide(Decimal.of(count), QUOTIENT_SCALE, "half-even"));
  return {
    realizedPnl: figures.realizedPnl.toString(),
    unrealizedPnl: unrealizedPnl.toString(),
    totalPnl: figures.realizedPnl.add(unrealizedPnl).subtract(figures.fees).toString(),
    fees: figures.fees.toString(),
    tradeCount: figures.tradeCount,
    winningTrades: figures.winningTrades,
    losingTrades: figures.losingTrades,
    winRate: quotient(Decimal.of(figures.winningTrades), decided).toString(),
    averageWin: quotient(figures.totalWin, figures.winningTrades).toString(),
    averageLoss: quotient(figures.totalLoss, figures.losingTrades).toString(),
    largestWin: figures.largestWin.toString(),
    largestLoss: figures.largestLoss.toString(),
    volume: figures.volume.toString(),
    notional: figures.notional.toString(),
  };
}
