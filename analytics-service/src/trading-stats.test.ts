import { describe, expect, it } from "vitest";
import { Decimal } from "./decimal.js";
import { createFifoBook } from "./fifo.js";
import { EMPTY_FIGURES, type SymbolFigures, figuresOfFill, mergeFigures, tradingStats } from "./trading-stats.js";

const d = (text: string) => Decimal.parse(text, "value");

/** The figures of a run of fills ("buy 10 100", "sell 4 110 0.5" with a fee) in one book. */
function run(...fills: string[]): SymbolFigures {
  const book = createFifoBook("AAPL");
  let figures = EMPTY_FIGURES;
  for (const [index, text] of fills.entries()) {
    const [side, qty, px, fee = "0"] = text.split(" ") as ["buy" | "sell", string, string, string?];
    const executedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, index));
    const outcome = book.apply({ symbol: "AAPL", side, quantity: d(qty), price: d(px), executedAt });
    figures = mergeFigures(figures, figuresOfFill({ price: d(px), quantity: d(qty), fee: d(fee), executedAt, outcome }));
  }
  return figures;
}

describe("win and loss counting", () => {
  it("counts closing fills by the sign of their realized P&L; opening fills and a zero P&L count as neither", () => {
    const figures = run("buy 10 100", "sell 4 110", "sell 3 90", "sell 1 100", "sell 2 130", "buy 1 95");
    // Closing fills: +40, -30, 0, +60; the book is then flat, so the last buy opens a lot.
    expect(figures.tradeCount).toBe(6n);
    expect(figures.winningTrades).toBe(2n);
    expect(figures.losingTrades).toBe(1n);
    expect(figures.realizedPnl.toString()).toBe("70");
    expect(figures.totalWin.toString()).toBe("100");
    expect(figures.totalLoss.toString()).toBe("-30");
    expect(figures.largestWin.toString()).toBe("60");
    expect(figures.largestLoss.toString()).toBe("-30");
    expect(figures.volume.toString()).toBe("21");
    expect(figures.notional.toString()).toBe("2165");
    expect(figures.lastFillAt).toEqual(new Date("2026-01-01T00:00:05Z"));
  });

  it("counts a flip by what it closed", () => {
    const figures = run("buy 2 50", "sell 5 45");
    expect(figures.losingTrades).toBe(1n);
    expect(figures.realizedPnl.toString()).toBe("-10");
  });
});

describe("tradingStats", () => {
  it("derives the win rate, averages and total P&L (realized + unrealized - fees)", () => {
    const figures = run("buy 10 100 1", "sell 4 110 1", "sell 3 90 0.5", "sell 2 130 0.25");
    const stats = tradingStats(figures, d("-12.5"));
    expect(stats).toEqual({
      realizedPnl: "70",
      unrealizedPnl: "-12.5",
      totalPnl: "54.75",
      fees: "2.75",
      tradeCount: 4n,
      winningTrades: 2n,
      losingTrades: 1n,
      winRate: "0.6666666667",
      averageWin: "50",
      averageLoss: "-30",
      largestWin: "60",
      largestLoss: "-30",
      volume: "19",
      notional: "1970",
    });
  });

  it('answers "0" for rates and averages before any decided trade', () => {
    const stats = tradingStats(EMPTY_FIGURES, Decimal.ZERO);
    expect([stats.winRate, stats.averageWin, stats.averageLoss, stats.totalPnl]).toEqual(["0", "0", "0", "0"]);
  });

  it("merges symbols: sums, the best win, the worst loss, the latest fill", () => {
    const a = run("buy 1 10", "sell 1 15");
    const b = run("sell 1 10", "buy 1 18");
    const merged = mergeFigures(a, b);
    expect(merged.realizedPnl.toString()).toBe("-3");
    expect(merged.largestWin.toString()).toBe("5");
    expect(merged.largestLoss.toString()).toBe("-8");
    expect(merged.winningTrades + merged.losingTrades).toBe(2n);
    expect(tradingStats(merged, Decimal.ZERO).winRate).toBe("0.5");
  });
});
