/**
 * Property: whatever the fills, FIFO realized P&L plus the open lots marked to a price equals the
 * mark-to-market value change computed without lots at all: the cash the fills moved plus the net
 * position valued at the mark. The reference works in integer cents × ten-thousandths (bigint),
 * not with Decimal, so a shared bug cannot hide.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decimal } from "./decimal.js";
import { createFifoBook } from "./fifo.js";

interface RandomFill {
  readonly buy: boolean;
  /** Price in cents. */
  readonly cents: bigint;
  /** Quantity in ten-thousandths. */
  readonly units: bigint;
}

const randomFill = fc.record({
  buy: fc.boolean(),
  cents: fc.bigInt({ min: 1n, max: 10_000_000n }),
  units: fc.bigInt({ min: 1n, max: 5_000_000n }),
});

const price = (cents: bigint) => Decimal.of(cents, 2);
const quantity = (units: bigint) => Decimal.of(units, 4);
const at = new Date("2026-01-02T03:04:05Z");

describe("FIFO P&L", () => {
  it("realized + unrealized equals the cash moved plus the position at the mark", () => {
    fc.assert(
      fc.property(fc.array(randomFill, { minLength: 1, maxLength: 60 }), fc.bigInt({ min: 1n, max: 10_000_000n }), (fills: RandomFill[], markCents) => {
        const book = createFifoBook("X");
        let realized = Decimal.ZERO;
        // Reference, in cents × ten-thousandths (scale 6).
        let cash = 0n;
        let position = 0n;
        for (const f of fills) {
          realized = realized.add(book.apply({ symbol: "X", side: f.buy ? "buy" : "sell", price: price(f.cents), quantity: quantity(f.units), executedAt: at }).realizedPnl);
          cash += (f.buy ? -1n : 1n) * f.cents * f.units;
          position += (f.buy ? 1n : -1n) * f.units;
        }
        const expected = Decimal.of(cash + position * markCents, 6);
        expect(realized.add(book.unrealizedPnl(price(markCents))).toString()).toBe(expected.toString());
        expect(book.netQuantity().toString()).toBe(quantity(position).toString());
      }),
      { numRuns: 500 },
    );
  });

  it("keeps every open lot on the side of the net position, after every fill", () => {
    fc.assert(
      fc.property(fc.array(randomFill, { minLength: 1, maxLength: 60 }), (fills: RandomFill[]) => {
        const book = createFifoBook("X");
        for (const f of fills) {
          book.apply({ symbol: "X", side: f.buy ? "buy" : "sell", price: price(f.cents), quantity: quantity(f.units), executedAt: at });
          const sign = book.netQuantity().sign();
          expect(book.lots().every((lot) => lot.quantity.sign() === sign)).toBe(true);
          expect(book.lots().length === 0).toBe(sign === 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
