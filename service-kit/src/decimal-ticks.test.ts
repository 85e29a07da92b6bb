import { describe, expect, it } from "vitest";
import { DecimalError, INT64_MAX, decimalsOf, fromUnits, toUnits } from "./decimal-ticks.js";

function refusal(run: () => unknown): DecimalError {
  try {
    run();
  } catch (err) {
    if (err instanceof DecimalError) return err;
    throw err;
  }
  throw new Error("expected a DecimalError");
}

describe("toUnits", () => {
  it("converts an exact multiple of the tick", () => {
    expect(toUnits("101.25", "0.01", "price")).toBe(10125n);
    expect(toUnits("101.2500", "0.01", "price")).toBe(10125n);
    expect(toUnits("100", "0.01", "price")).toBe(10000n);
  });

  it("converts fractional lots", () => {
    expect(toUnits("0.0001", "0.0001", "quantity")).toBe(1n);
    expect(toUnits("1.5", "0.0001", "quantity")).toBe(15000n);
    expect(toUnits("7", "1", "quantity")).toBe(7n);
  });

  it("handles ticks coarser than one", () => {
    expect(toUnits("250", "5", "price")).toBe(50n);
    expect(refusal(() => toUnits("252", "5", "price")).code).toBe("DECIMAL_NOT_MULTIPLE");
  });

  it("refuses a price off the tick instead of rounding, naming the field and tick", () => {
    const err = refusal(() => toUnits("100.005", "0.01", "price"));
    expect(err.code).toBe("DECIMAL_NOT_MULTIPLE");
    expect(err.field).toBe("price");
    expect(err.message).toBe('price "100.005" is not a multiple of tick 0.01');
  });

  it("refuses a quantity off the lot, naming the lot", () => {
    expect(refusal(() => toUnits("1.5", "1", "quantity")).message).toBe('quantity "1.5" is not a multiple of lot 1');
  });

  it.each(["", "abc", "1e5", "1,5", " 1", "1.", ".5", "+1", "0x10", "1..2", "NaN", "Infinity"])("refuses malformed %j", (value) => {
    const err = refusal(() => toUnits(value, "0.01", "price"));
    expect(err.code).toBe("DECIMAL_MALFORMED");
    expect(err.message).toContain("price");
  });

  it("refuses zero and negatives unless allowed", () => {
    expect(refusal(() => toUnits("0", "0.01", "price")).code).toBe("DECIMAL_NOT_POSITIVE");
    expect(refusal(() => toUnits("-1", "0.01", "price")).code).toBe("DECIMAL_NOT_POSITIVE");
    expect(toUnits("0", "1", "display_quantity", { allowZero: true })).toBe(0n);
    expect(toUnits("-2.5", "0.5", "position", { allowNegative: true })).toBe(-5n);
  });

  it("accepts the largest int64 and refuses one more", () => {
    expect(toUnits(INT64_MAX.toString(), "1", "quantity")).toBe(INT64_MAX);
    expect(toUnits("92233720368547758.07", "0.01", "price")).toBe(INT64_MAX);
    const err = refusal(() => toUnits("92233720368547758.08", "0.01", "price"));
    expect(err.code).toBe("DECIMAL_OUT_OF_RANGE");
    expect(err.message).toContain("at most 92233720368547758.07");
  });

  it("refuses absurdly long input as malformed without doing big arithmetic", () => {
    expect(refusal(() => toUnits("9".repeat(5000), "0.01", "price")).code).toBe("DECIMAL_MALFORMED");
  });
});

describe("fromUnits", () => {
  it("formats with the unit's decimals", () => {
    expect(fromUnits(10125n, "0.01")).toBe("101.25");
    expect(fromUnits(10000n, "0.01")).toBe("100.00");
    expect(fromUnits(1n, "0.0001")).toBe("0.0001");
    expect(fromUnits(3n, "1")).toBe("3");
    expect(fromUnits(50n, "5")).toBe("250");
    expect(fromUnits(-5n, "0.5")).toBe("-2.5");
  });

  it("round-trips every value through toUnits", () => {
    for (const [units, unit] of [
      [1n, "0.01"],
      [987654321n, "0.0001"],
      [INT64_MAX, "0.01"],
    ] as const) {
      expect(toUnits(fromUnits(units, unit), unit, "price")).toBe(units);
    }
  });
});

describe("decimalsOf", () => {
  it("counts the unit's decimals", () => {
    expect(decimalsOf("0.01")).toBe(2);
    expect(decimalsOf("1")).toBe(0);
  });
});
