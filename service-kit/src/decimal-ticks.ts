/**
 * Exact conversion between public decimal strings ("101.25") and the engine's integer units
 * (ticks of a price, lots of a quantity). Nothing here touches floating point: a value that is not
 * an exact multiple of its unit is refused, never rounded.
 */

/** Why a decimal string was refused. */
export type DecimalErrorCode = "DECIMAL_MALFORMED" | "DECIMAL_NOT_MULTIPLE" | "DECIMAL_OUT_OF_RANGE" | "DECIMAL_NOT_POSITIVE";

/** A refused decimal, naming the field and what was expected. */
export class DecimalError extends Error {
  override readonly name = "DecimalError";
  constructor(
    readonly code: DecimalErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The largest value an engine integer (int64) holds. */
export const INT64_MAX = 2n ** 63n - 1n;

const decimalPattern = /^(-?)(\d+)(?:\.(\d+))?$/;
const maxDigits = 40;

interface Scaled {
  /** The value times 10^scale. */
  readonly coefficient: bigint;
  readonly scale: number;
}

function parse(value: string, field: string): Scaled {
  const match = decimalPattern.exec(value);
  if (!match || value.length > maxDigits + 2) {
    throw new DecimalError("DECIMAL_MALFORMED", field, `${field} "${truncate(value)}" is not a decimal number like "101.25"`);
  }
  const [, sign, whole, fraction = ""] = match;
  const coefficient = BigInt(`${whole}${fraction}`);
  return { coefficient: sign === "-" ? -coefficient : coefficient, scale: fraction.length };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.coefficient * 10n ** BigInt(scale - value.scale);
}

/** Parses a unit (tick size, lot size): a positive decimal. */
function parseUnit(unit: string): Scaled {
  const parsed = parse(unit, "unit");
  if (parsed.coefficient <= 0n) throw new RangeError(`unit "${unit}" must be positive`);
  return parsed;
}

export interface ToUnitsOptions {
  /** Accept zero (for example a display quantity where 0 means "all"). Default false. */
  readonly allowZero?: boolean;
  /** Accept negative values (signed positions). Default false. */
  readonly allowNegative?: boolean;
}

/**
 * Converts `value` to a whole number of `unit`s: `toUnits("101.25", "0.01", "price")` is 10125n.
 * Throws a {@link DecimalError} naming `field` when the value is malformed, not an exact multiple
 * of the unit, not positive (unless allowed), or beyond the engine's int64 range.
 */
export function toUnits(value: string, unit: string, field: string, options: ToUnitsOptions = {}): bigint {
  const parsed = parse(value, field);
  const unitParsed = parseUnit(unit);
  const scale = Math.max(parsed.scale, unitParsed.scale);
  const numerator = rescale(parsed, scale);
  const denominator = rescale(unitParsed, scale);
  if (numerator % denominator !== 0n) {
    const noun = field.toLowerCase().includes("price") ? "tick" : "lot";
    throw new DecimalError("DECIMAL_NOT_MULTIPLE", field, `${field} "${value}" is not a multiple of ${noun} ${unit}`);
  }
  const units = numerator / denominator;
  if (units < 0n && !options.allowNegative) {
    throw new DecimalError("DECIMAL_NOT_POSITIVE", field, `${field} "${value}" must not be negative`);
  }
  if (units === 0n && !options.allowZero) {
    throw new DecimalError("DECIMAL_NOT_POSITIVE", field, `${field} "${value}" must be greater than zero`);
  }
  if (units > INT64_MAX || units < -INT64_MAX) {
    throw new DecimalError("DECIMAL_OUT_OF_RANGE", field, `${field} "${truncate(value)}" is too large: at most ${fromUnits(INT64_MAX, unit)}`);
  }
  return units;
}

/**
 * Converts a whole number of `unit`s back to a decimal string with the unit's number of decimals:
 * `fromUnits(10125n, "0.01")` is "101.25", `fromUnits(3n, "1")` is "3".
 */
export function fromUnits(units: bigint, unit: string): string {
  const unitParsed = parseUnit(unit);
  const coefficient = units * unitParsed.coefficient;
  return formatScaled(coefficient, unitParsed.scale);
}

/** Formats coefficient × 10^-scale with exactly `scale` decimals. */
export function formatScaled(coefficient: bigint, scale: number): string {
  const negative = coefficient < 0n;
  const digits = (negative ? -coefficient : coefficient).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? "-" : ""}${whole}${scale > 0 ? `.${fraction}` : ""}`;
}

/** The number of decimals of a unit: 2 for "0.01", 0 for "1". */
export function decimalsOf(unit: string): number {
  return parseUnit(unit).scale;
}

function truncate(value: string): string {
  return value.length > 48 ? `${value.slice(0, 45)}...` : value;
}
