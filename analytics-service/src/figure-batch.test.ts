import { describe, expect, it } from "vitest";
import { Decimal } from "./decimal.js";
import { type FifoBook, type Lot, createFifoBook } from "./fifo.js";
import { type BookedFill, applyFills, isNewerTrade, lotChange } from "./figure-batch.js";

const d = (text: string) => Decimal.parse(text, "value");

const base: BookedFill = {
  shard: "default",
  sequence: 1n,
  tradeId: "1",
  liquidity: "taker",
  account: "alice",
  accountId: "7",
  symbol: "AAPL",
  instrumentId: 3,
  side: "buy",
  price: d("100"),
  quantity: d("1"),
  fee: d("0"),
  executedAt: new Date("2026-06-01T12:00:00Z"),
};
const fill = (overrides: Partial<BookedFill>): BookedFill => ({ ...base, ...overrides });

/** A book source that starts every book empty (or with `lots`) and remembers what it handed out. */
function books(lots: Record<string, Lot[]> = {}) {
  const handed = new Map<string, FifoBook>();
  const source = (accountId: string, instrumentId: number, symbol: string) => {
    const key = `${accountId}/${instrumentId}`;
    if (handed.has(key)) throw new Error(`book ${key} asked for twice`);
    const book = createFifoBook(symbol, lots[key] ?? []);
    handed.set(key, book);
    return book;
  };
  return { source, handed };
}

describe("applyFills", () => {
  it("books realized P&L on the UTC day of the closing fill, across midnight", () => {
    const { source } = books();
    const result = applyFills(
      [
        fill({ sequence: 1n, tradeId: "1", side: "buy", quantity: d("2"), price: d("10"), executedAt: new Date("2026-06-01T23:59:59.999Z") }),
        fill({ sequence: 2n, tradeId: "2", side: "sell", quantity: d("1"), price: d("13"), fee: d("0.1"), executedAt: new Date("2026-06-01T23:59:59.999Z") }),
        fill({ sequence: 3n, tradeId: "3", side: "sell", quantity: d("1"), price: d("9"), fee: d("0.2"), executedAt: new Date("2026-06-02T00:00:00.000Z") }),
      ],
      source,
    );
    const days = Object.fromEntries(result.days.map((c) => [c.day, { pnl: c.figures.realizedPnl.toString(), fees: c.figures.fees.toString(), trades: c.figures.tradeCount, volume: c.figures.volume.toString() }]));
    expect(days).toEqual({
      "2026-06-01": { pnl: "3", fees: "0.1", trades: 2n, volume: "3" },
      "2026-06-02": { pnl: "-1", fees: "0.2", trades: 1n, volume: "1" },
    });
    expect(result.symbols).toHaveLength(1);
    expect(result.symbols[0]!.figures.realizedPnl.toString()).toBe("2");
    expect(result.symbols[0]!.figures.winningTrades).toBe(1n);
    expect(result.symbols[0]!.figures.losingTrades).toBe(1n);
  });

  it("keeps several symbols and accounts apart, asking for each book once", () => {
    const { source, handed } = books();
    const result = applyFills(
      [
        fill({ tradeId: "1", symbol: "AAPL", instrumentId: 3, side: "buy", quantity: d("5"), price: d("100") }),
        fill({ tradeId: "2", symbol: "MSFT", instrumentId: 4, side: "sell", quantity: d("2"), price: d("300") }),
        fill({ tradeId: "3", symbol: "AAPL", instrumentId: 3, side: "sell", quantity: d("5"), price: d("101") }),
        fill({ tradeId: "3", liquidity: "maker", accountId: "8", account: "bob", symbol: "AAPL", instrumentId: 3, side: "buy", quantity: d("5"), price: d("101") }),
      ],
      source,
    );
    expect([...handed.keys()].sort()).toEqual(["7/3", "7/4", "8/3"]);
    const pnl = Object.fromEntries(result.symbols.map((c) => [`${c.accountId}/${c.instrumentId}`, c.figures.realizedPnl.toString()]));
    expect(pnl).toEqual({ "7/3": "5", "7/4": "0", "8/3": "0" });
    expect(handed.get("7/3")!.lots()).toEqual([]);
    expect(handed.get("7/4")!.netQuantity().toString()).toBe("-2");
  });

  it("marks each instrument with its newest trade by sequence, then trade id, sorted by instrument", () => {
    const { source } = books();
    const result = applyFills(
      [
        fill({ instrumentId: 4, symbol: "MSFT", sequence: 9n, tradeId: "20", price: d("301") }),
        fill({ sequence: 5n, tradeId: "12", price: d("102") }),
        fill({ sequence: 5n, tradeId: "11", price: d("101") }),
        fill({ sequence: 4n, tradeId: "13", price: d("99") }),
      ],
      source,
    );
    expect(result.lastPrices.map((p) => [p.instrumentId, p.price.toString()])).toEqual([
      [3, "102"],
      [4, "301"],
    ]);
    expect(isNewerTrade({ sequence: 5n, tradeId: 2n }, { sequence: 5n, tradeId: 1n })).toBe(true);
    expect(isNewerTrade({ sequence: 4n, tradeId: 9n }, { sequence: 5n, tradeId: 1n })).toBe(false);
  });

  it("writes only the lots that changed", () => {
    const at = new Date("2026-06-01T00:00:00Z");
    const { source } = books({
      "7/3": [
        { lotSeq: 1n, quantity: d("2"), price: d("10"), openedAt: at },
        { lotSeq: 2n, quantity: d("3"), price: d("11"), openedAt: at },
        { lotSeq: 3n, quantity: d("4"), price: d("12"), openedAt: at },
      ],
    });
    const result = applyFills([fill({ side: "sell", quantity: d("3"), price: d("15") })], source);
    expect(result.lots).toHaveLength(1);
    expect(result.lots[0]!.removed).toEqual([1n]);
    expect(result.lots[0]!.reduced.map((lot) => [lot.lotSeq, lot.quantity.toString()])).toEqual([[2n, "2"]]);
    expect(result.lots[0]!.added).toEqual([]);
    expect(result.symbols[0]!.figures.realizedPnl.toString()).toBe("14");
  });
});

describe("lotChange", () => {
  const lot = (lotSeq: bigint, quantity: string): Lot => ({ lotSeq, quantity: d(quantity), price: d("10"), openedAt: new Date(0) });

  it("is empty when nothing changed", () => {
    expect(lotChange([lot(1n, "2")], [lot(1n, "2")])).toEqual({ removed: [], reduced: [], added: [] });
  });

  it("removes the closed lots and adds the lot a flip opens", () => {
    expect(lotChange([lot(1n, "2"), lot(2n, "3")], [lot(3n, "-1")])).toEqual({ removed: [1n, 2n], reduced: [], added: [lot(3n, "-1")] });
  });
});
