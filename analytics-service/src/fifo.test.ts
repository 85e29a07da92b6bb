import { describe, expect, it } from "vitest";
import { Decimal } from "./decimal.js";
import { type BookFill, type FifoBook, createFifoBook } from "./fifo.js";

const d = (text: string) => Decimal.parse(text, "value");
const at = new Date("2026-05-04T12:00:00Z");
const fill = (side: "buy" | "sell", quantity: string, price: string, symbol = "AAPL"): BookFill => ({ symbol, side, quantity: d(quantity), price: d(price), executedAt: at });

/** The lots as "quantity@price", oldest first. */
const lotsOf = (book: FifoBook) => book.lots().map((lot) => `${lot.quantity}@${lot.price}`);

describe("createFifoBook().apply", () => {
  it("closes the oldest long lot first and splits the last one it reaches", () => {
    const book = createFifoBook("AAPL");
    book.apply(fill("buy", "10", "100"));
    book.apply(fill("buy", "5", "110"));
    const outcome = book.apply(fill("sell", "12", "120"));
    // (120 - 100) × 10 + (120 - 110) × 2
    expect(outcome.realizedPnl.toString()).toBe("220");
    expect(outcome.closedQuantity.toString()).toBe("12");
    expect(outcome.openedQuantity.toString()).toBe("0");
    expect(outcome.closing).toBe(true);
    expect(lotsOf(book)).toEqual(["3@110"]);
    expect(book.netQuantity().toString()).toBe("3");
    expect(book.unrealizedPnl(d("100")).toString()).toBe("-30");
  });

  it("flips a long into a short: closes the long, opens the rest short at the fill price", () => {
    const book = createFifoBook("AAPL");
    book.apply(fill("buy", "2", "50"));
    const flip = book.apply(fill("sell", "5", "55"));
    expect(flip.realizedPnl.toString()).toBe("10");
    expect(flip.closedQuantity.toString()).toBe("2");
    expect(flip.openedQuantity.toString()).toBe("3");
    expect(lotsOf(book)).toEqual(["-3@55"]);
    // Covering a short above its entry loses: (60 - 55) × -1.
    const cover = book.apply(fill("buy", "1", "60"));
    expect(cover.realizedPnl.toString()).toBe("-5");
    expect(lotsOf(book)).toEqual(["-2@55"]);
    expect(book.unrealizedPnl(d("50")).toString()).toBe("10");
  });

  it("closes shorts oldest first", () => {
    const book = createFifoBook("AAPL");
    book.apply(fill("sell", "4", "10"));
    book.apply(fill("sell", "4", "12"));
    const outcome = book.apply(fill("buy", "6", "11"));
    // (11 - 10) × -4 + (11 - 12) × -2
    expect(outcome.realizedPnl.toString()).toBe("-2");
    expect(lotsOf(book)).toEqual(["-2@12"]);
    expect(book.netQuantity().toString()).toBe("-2");
  });

  it("counts fractional lots exactly", () => {
    const book = createFifoBook("BTC-USD");
    book.apply(fill("buy", "0.0003", "50000.01", "BTC-USD"));
    book.apply(fill("buy", "0.0002", "50010.5", "BTC-USD"));
    const outcome = book.apply(fill("sell", "0.00045", "50100", "BTC-USD"));
    // 99.99 × 0.0003 + 89.5 × 0.00015 = 0.029997 + 0.013425
    expect(outcome.realizedPnl.toString()).toBe("0.043422");
    expect(lotsOf(book)).toEqual(["0.00005@50010.5"]);
    expect(book.unrealizedPnl(d("50010.51")).toString()).toBe("0.0000005");
  });

  it("closes to flat at the entry price: closing, with zero P&L and no lot left", () => {
    const book = createFifoBook("AAPL");
    book.apply(fill("buy", "1", "10"));
    const outcome = book.apply(fill("sell", "1", "10"));
    expect(outcome.closing).toBe(true);
    expect(outcome.realizedPnl.isZero()).toBe(true);
    expect(book.lots()).toEqual([]);
    expect(book.netQuantity().toString()).toBe("0");
  });

  it("numbers new lots after the restored ones and keeps a lot's number when it is partly closed", () => {
    const book = createFifoBook("AAPL", [{ lotSeq: 7n, quantity: d("5"), price: d("10"), openedAt: at }]);
    book.apply(fill("sell", "2", "11"));
    book.apply(fill("sell", "4", "12"));
    expect(book.lots().map((lot) => [lot.lotSeq, lot.quantity.toString()])).toEqual([[8n, "-1"]]);
    const other = createFifoBook("AAPL", [{ lotSeq: 3n, quantity: d("5"), price: d("10"), openedAt: at }]);
    other.apply(fill("sell", "2", "11"));
    expect(other.lots().map((lot) => [lot.lotSeq, lot.quantity.toString()])).toEqual([[3n, "3"]]);
  });

  it("refuses a fill of another symbol", () => {
    const book = createFifoBook("AAPL");
    expect(() => book.apply(fill("buy", "1", "10", "MSFT"))).toThrow("fill of MSFT applied to the book of AAPL");
  });
});

describe("createFifoBook restoring lots", () => {
  it.each([
    ["a zero quantity", [{ lotSeq: 1n, quantity: d("0"), price: d("1"), openedAt: at }], "AAPL lot 0: quantity must not be zero"],
    ["a price of zero", [{ lotSeq: 1n, quantity: d("1"), price: d("0"), openedAt: at }], "AAPL lot 0: price 0 must be greater than zero"],
    [
      "lots on both sides",
      [
        { lotSeq: 1n, quantity: d("1"), price: d("1"), openedAt: at },
        { lotSeq: 2n, quantity: d("-1"), price: d("1"), openedAt: at },
      ],
      "AAPL lot 1: lots must all be long or all be short",
    ],
    [
      "lot numbers out of order",
      [
        { lotSeq: 2n, quantity: d("1"), price: d("1"), openedAt: at },
        { lotSeq: 2n, quantity: d("1"), price: d("1"), openedAt: at },
      ],
      "AAPL lot 1: lot number 2 must be above the previous lot's",
    ],
  ])("refuses %s", (_case, lots, message) => {
    expect(() => createFifoBook("AAPL", lots)).toThrow(message);
  });
});
