/**
 * Exact conversion between the platform's decimal strings and whole multiples of an instrument's
 * step (a price in ticks, a quantity in lots), in bigint: a market maker must never quote a price
 * that rounding moved off the tick.
 */

/** A decimal as digits and a number of decimal places: "25000.05" → 2500005n at scale 2. */
interface ScaledDecimal {
  readonly digits: bigint;
  readonly scale: number;
}

const DECIMAL = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

function parseScaled(text: string, what: string): ScaledDecimal {
  const match = DECIMAL.exec(text);
  if (!match) throw new RangeError(`${what} "${text}" is not a decimal number`);
  const [, sign, whole, fraction = ""] = match;
  const digits = BigInt(`${whole}${fraction}`);
  return { digits: sign === "-" ? -digits : digits, scale: fraction.length };
}

const atScale = (value: ScaledDecimal, scale: number) => value.digits * 10n ** BigInt(scale - value.scale);

/** `text` as a whole number of `step`s; a RangeError names `what` when it is not an exact multiple. */
export function toSteps(text: string, step: string, what: string): bigint {
  const value = parseScaled(text, what);
  const unit = parseScaled(step, `step of ${what}`);
  if (unit.digits <= 0n) throw new RangeError(`step of ${what} "${step}" is not positive`);
  const scale = Math.max(value.scale, unit.scale);
  const [numerator, denominator] = [atScale(value, scale), atScale(unit, scale)];
  if (numerator % denominator !== 0n) throw new RangeError(`${what} "${text}" is not a multiple of ${step}`);
  return numerator / denominator;
}

/** `steps` multiples of `step` as a decimal string without trailing zeros: (2500005n, "0.01") → "25000.05". */
export function fromSteps(steps: bigint, step: string): string {
  const unit = parseScaled(step, "step");
  const digits = steps * unit.digits;
  const negative = digits < 0n;
  const text = (negative ? -digits : digits).toString().padStart(unit.scale + 1, "0");
  const whole = text.slice(0, text.length - unit.scale);
  const fraction = text.slice(text.length - unit.scale).replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}
