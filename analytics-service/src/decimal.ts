/**
 * An exact signed decimal on bigint, for money and quantities: coefficient × 10^-scale. Adding,
 * subtracting and multiplying never round; dividing rounds only at a scale the caller names. No
 * floating point is involved anywhere, so "0.1" + "0.2" is "0.3".
 *
 * Values are kept normalised (no trailing zeros in the coefficient), so two equal values have the
 * same coefficient and scale, and `toString()` is canonical: "0", "-1.5", "100", never "1.50",
 * "-0" or an exponent.
 */
import { DecimalError, formatScaled } from "@hft/service-kit";

/** How {@link Decimal.divide} rounds a quotient that does not fit its scale. */
export type RoundingMode = "half-even";

const decimalPattern = /^([+-]?)(\d+)(?:\.(\d+))?$/;
// Longer than any engine price, quantity or running total; refuses pathological input before
// BigInt spends time on it.
const maxTextLength = 100;

export class Decimal {
  static readonly ZERO = new Decimal(0n, 0);

  /** The value times 10^scale. */
  readonly coefficient: bigint;
  /** Digits after the decimal point; never negative. */
  readonly scale: number;

  private constructor(coefficient: bigint, scale: number) {
    // Strip trailing zeros so equal values share one representation.
    while (scale > 0 && coefficient % 10n === 0n) {
      coefficient /= 10n;
      scale--;
    }
    this.coefficient = coefficient;
    this.scale = scale;
  }

  /** coefficient × 10^-scale: `Decimal.of(125n, 2)` is 1.25. */
  static of(coefficient: bigint, scale = 0): Decimal {
    if (!Number.isSafeInteger(scale) || scale < 0) throw new RangeError(`scale must be a non-negative integer, got ${scale}`);
    return new Decimal(coefficient, scale);
  }

  /**
   * Parses digits with an optional sign and fraction ("101.25", "-0.5", "+3"). Anything else
   * (empty, ".5", "5.", "1e3", spaces, non-strings) throws a DecimalError naming `field`.
   */
  static parse(value: unknown, field: string): Decimal {
    if (typeof value !== "string") {
      throw new DecimalError("DECIMAL_MALFORMED", field, `${field} must be a decimal string like "101.25", got ${value === null ? "null" : typeof value}`);
    }
    const match = value.length <= maxTextLength ? decimalPattern.exec(value) : null;
    if (!match) {
      const shown = value.length > 48 ? `${value.slice(0, 45)}...` : value;
      throw new DecimalError("DECIMAL_MALFORMED", field, `${field} "${shown}" is not a decimal number like "101.25"`);
    }
    const [, sign, whole, fraction = ""] = match;
    const coefficient = BigInt(`${whole}${fraction}`);
    return new Decimal(sign === "-" ? -coefficient : coefficient, fraction.length);
  }

  add(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescaled(scale) + other.rescaled(scale), scale);
  }

  subtract(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.rescaled(scale) - other.rescaled(scale), scale);
  }

  multiply(other: Decimal): Decimal {
    return new Decimal(this.coefficient * other.coefficient, this.scale + other.scale);
  }

  /**
   * this ÷ divisor rounded to `scale` decimals. The scale and rounding are required because most
   * quotients (1 ÷ 3) have no exact decimal. Half-even rounds a tie to the even last digit and
   * is symmetric around zero: -0.125 at 2 decimals is -0.12. Throws a RangeError on division by
   * zero.
   */
  divide(divisor: Decimal, scale: number, rounding: RoundingMode): Decimal {
    if (divisor.coefficient === 0n) throw new RangeError("division by zero");
    if (!Number.isSafeInteger(scale) || scale < 0) throw new RangeError(`scale must be a non-negative integer, got ${scale}`);
    // (a / 10^as) / (b / 10^bs) × 10^scale = a × 10^(scale - as + bs) / b
    const exponent = scale - this.scale + divisor.scale;
    let numerator = exponent >= 0 ? this.coefficient * 10n ** BigInt(exponent) : this.coefficient;
    let denominator = exponent >= 0 ? divisor.coefficient : divisor.coefficient * 10n ** BigInt(-exponent);
    if (denominator < 0n) {
      numerator = -numerator;
      denominator = -denominator;
    }
    return new Decimal(roundQuotient(numerator, denominator, rounding), scale);
  }

  negate(): Decimal {
    return new Decimal(-this.coefficient, this.scale);
  }

  abs(): Decimal {
    return this.coefficient < 0n ? this.negate() : this;
  }

  /** -1, 0 or 1 as this is below, equal to or above `other`. */
  compare(other: Decimal): -1 | 0 | 1 {
    const scale = Math.max(this.scale, other.scale);
    const a = this.rescaled(scale);
    const b = other.rescaled(scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  equals(other: Decimal): boolean {
    return this.coefficient === other.coefficient && this.scale === other.scale;
  }

  /** -1, 0 or 1 by the sign of the value. */
  sign(): -1 | 0 | 1 {
    return this.coefficient < 0n ? -1 : this.coefficient > 0n ? 1 : 0;
  }

  isZero(): boolean {
    return this.coefficient === 0n;
  }

  /** The canonical form: "0", "-1.5", "100". */
  toString(): string {
    return formatScaled(this.coefficient, this.scale);
  }

  toJSON(): string {
    return this.toString();
  }

  private rescaled(scale: number): bigint {
    return this.coefficient * 10n ** BigInt(scale - this.scale);
  }
}

/** numerator ÷ denominator (denominator > 0) as an integer, rounded half to even. */
function roundQuotient(numerator: bigint, denominator: bigint, _rounding: RoundingMode): bigint {
  const quotient = numerator / denominator; // truncated toward zero
  const remainder = numerator % denominator; // same sign as the numerator
  const twiceRemainder = (remainder < 0n ? -remainder : remainder) * 2n;
  const away = numerator < 0n ? -1n : 1n;
  if (twiceRemainder > denominator) return quotient + away;
  if (twiceRemainder === denominator && quotient % 2n !== 0n) return quotient + away;
  return quotient;
}

/** The sum of `values`; "0" for none. */
export function sumOf(values: Iterable<Decimal>): Decimal {
  let total = Decimal.ZERO;
  for (const value of values) total = total.add(value);
  return total;
}
