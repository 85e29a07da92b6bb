import { describe, expect, it } from "vitest";
import { DecimalError } from "@hft/service-kit";
import { Decimal, sumOf } from "./decimal.js";

const d = (text: string) => Decimal.parse(text, "value");

describe("Decimal.parse", () => {
  it("keeps values canonical: no trailing zeros, no negative zero", () => {
    expect(d("1.50").toString()).toBe("1.5");
    expect(d("-0.000").toString()).toBe("0");
    expect(d("+3").toString()).toBe("3");
    expect(d("100").toString()).toBe("100");
    expect(d("1.50").equals(d("1.5"))).toBe(true);
  });

  it.each(["", ".5", "5.", "1e3", " 1", "1,5", "--1", "0x10"])("refuses %j, naming the field", (text) => {
    expect(() => Decimal.parse(text, "price")).toThrow(DecimalError);
    expect(() => Decimal.parse(text, "price")).toThrow(/^price "/);
  });

  it("refuses what is not a string", () => {
    expect(() => Decimal.parse(1.5, "fee")).toThrow('fee must be a decimal string like "101.25", got number');
    expect(() => Decimal.parse(null, "fee")).toThrow("got null");
  });
});

describe("Decimal arithmetic", () => {
  it("adds without floating point error", () => {
    expect(d("0.1").add(d("0.2")).toString()).toBe("0.3");
    expect(sumOf([d("0.1"), d("0.2"), d("-0.3")]).toString()).toBe("0");
  });

  it("multiplies exactly at the sum of the scales", () => {
    expect(d("101.25").multiply(d("0.0003")).toString()).toBe("0.030375");
    expect(d("-2.5").multiply(d("4")).toString()).toBe("-10");
  });

  it("divides rounding half to even, symmetric around zero", () => {
    expect(d("1").divide(d("3"), 4, "half-even").toString()).toBe("0.3333");
    expect(d("0.125").divide(d("1"), 2, "half-even").toString()).toBe("0.12");
    expect(d("0.135").divide(d("1"), 2, "half-even").toString()).toBe("0.14");
    expect(d("-0.125").divide(d("1"), 2, "half-even").toString()).toBe("-0.12");
    expect(d("-0.135").divide(d("1"), 2, "half-even").toString()).toBe("-0.14");
    expect(d("2").divide(d("-3"), 3, "half-even").toString()).toBe("-0.667");
    expect(() => d("1").divide(Decimal.ZERO, 2, "half-even")).toThrow("division by zero");
  });

  it("compares values of different scales", () => {
    expect(d("1.10").compare(d("1.1"))).toBe(0);
    expect(d("-1").compare(d("0.5"))).toBe(-1);
    expect(d("2").compare(d("1.999"))).toBe(1);
    expect(d("-3").abs().toString()).toBe("3");
    expect(d("-3").sign()).toBe(-1);
  });
});
