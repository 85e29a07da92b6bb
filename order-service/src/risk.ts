/**
 * Pre-trade risk checks of one new order of one account against the account's `risk_limits` row.
 *
 * Limits are decimals in instrument units (a quantity, a quote-currency notional) and the order is
 * in integer ticks and lots; they are compared exactly, by bigint cross-multiplication, never with
 * floating point and never by rounding a limit to the instrument's units (a max_order_quantity of
 * "10.00005" with a lot of 0.0001 admits 10.0000 and refuses 10.0001).
 *
 * The rules run in this fixed order and the first one that fails is the answer:
 *   1. kill_switch         while it is on, every new order of the account is refused
 *   2. max_order_quantity  the order's quantity
 *   3. max_order_notional  price × quantity; a market or stop order is valued at the last trade
 *   4. max_position        the worst-case net position on the order's side: position + every open
 *                          order on that side + this order, as if they all filled
 *   5. price_collar        distance of a limit or stop-limit price from the last trade price
 *   6. orders_per_second   orders of the account admitted in the last second
 * The rate is checked last because it is the only rule with state: an order refused by any other
 * rule does not use up the account's rate, so a client that corrects its order may resend it at
 * once, and a refused order cannot lock the account out. An order admitted here counts even if the
 * engine refuses it later: it was sent.
 */
import { decimalsOf, formatScaled, fromUnits } from "@hft/service-kit";

/** The stable name of a risk rule. */
export type RiskRule = "kill_switch" | "max_order_quantity" | "max_order_notional" | "max_position" | "price_collar" | "orders_per_second";

/** The rules in the order {@link checkOrderRisk} applies them. */
export const RISK_RULES: readonly RiskRule[] = [
  "kill_switch",
  "max_order_quantity",
  "max_order_notional",
  "max_position",
  "price_collar",
  "orders_per_second",
];

/** The machine-readable reason a client sees for each rule (`OrderEntryError.reason`). */
export const RISK_REASONS: Readonly<Record<RiskRule, string>> = {
  kill_switch: "RISK_KILL_SWITCH",
  max_order_quantity: "RISK_MAX_QUANTITY",
  max_order_notional: "RISK_MAX_NOTIONAL",
  max_position: "RISK_MAX_POSITION",
  price_collar: "RISK_PRICE_COLLAR",
  orders_per_second: "RISK_ORDER_RATE",
};

/**
 * One account's limits, as the `risk_limits` row holds them: decimals as PostgreSQL returns
 * numeric (strings), null or absent when the limit is not set.
 */
export interface RiskLimits {
  /** Largest quantity of one order, in the instrument's quantity ("10", "0.5"). */
  readonly maxOrderQuantity?: string | null;
  /** Largest price × quantity of one order, in the quote currency. */
  readonly maxOrderNotional?: string | null;
  /** Largest absolute net position per instrument, in the instrument's quantity. */
  readonly maxPosition?: string | null;
  /** Largest distance of a limit price from the last trade price, in basis points (1 to 100000). */
  readonly priceCollarBps?: number | null;
  /** Most orders admitted in any one second. */
  readonly maxOrdersPerSecond?: number | null;
  /** While true every new order is refused. */
  readonly killSwitch: boolean;
}

/** The instrument's units, decimals as in the `instruments` row. */
export interface RiskInstrument {
  /** Price of one tick, for example "0.01". */
  readonly tickSize: string;
  /** Quantity of one lot, for example "0.0001". */
  readonly lotSize: string;
}

export type RiskSide = "buy" | "sell";
export type RiskOrderType = "limit" | "market" | "stop" | "stop_limit";

/** The new order, already validated and converted to the engine's units. */
export interface RiskOrder {
  readonly side: RiskSide;
  readonly type: RiskOrderType;
  /** Limit price in ticks: required for limit and stop-limit orders, undefined for market and stop. */
  readonly price: bigint | undefined;
  /** Quantity in lots, greater than zero. */
  readonly quantity: bigint;
}

export interface RiskCheckInput {
  /** Whose rate the order uses up. */
  readonly accountId: string;
  readonly limits: RiskLimits;
  readonly instrument: RiskInstrument;
  readonly order: RiskOrder;
  /** The account's net position in the instrument, in lots: positive long, negative short. */
  readonly position: bigint;
  /** Remaining quantity of the account's open buy orders in the instrument, in lots. */
  readonly openBuyQuantity: bigint;
  /** Remaining quantity of the account's open sell orders in the instrument, in lots. */
  readonly openSellQuantity: bigint;
  /** Price of the instrument's last trade in ticks; undefined before the first trade. */
  readonly lastTradePrice: bigint | undefined;
}

/** Why the order was refused: the rule, its client-facing reason and a message naming the limit and the value. */
export interface RiskRejection {
  readonly ok: false;
  readonly rule: RiskRule;
  readonly reason: string;
  readonly message: string;
}

export type RiskDecision = { readonly ok: true } | RiskRejection;

const admitted: RiskDecision = Object.freeze({ ok: true });

/**
 * Checks one new order against the account's limits (see the file comment for the order of the
 * rules). `rateLimiter` is required when the limits set max_orders_per_second, and records the
 * order only when every rule admits it.
 *
 * Returns a rejection for an order the limits refuse. Throws a RangeError for input that breaks
 * the contract (a malformed limit, a limit order without a price, a quantity of zero): those were
 * validated before and are a bug, not a client's mistake.
 */
export function checkOrderRisk(input: RiskCheckInput, rateLimiter?: OrderRateLimiter): RiskDecision {
  const { limits, order } = input;
  assertInput(input);
  const tick = parseDecimal(input.instrument.tickSize, "tick_size");
  const lot = parseDecimal(input.instrument.lotSize, "lot_size");
  const quantity = (lots: bigint) => trimZeros(fromUnits(lots, input.instrument.lotSize));
  const price = (ticks: bigint) => trimZeros(fromUnits(ticks, input.instrument.tickSize));

  // 1. kill_switch
  if (limits.killSwitch) return reject("kill_switch", "kill_switch is on: the account may not place new orders");

  // 2. max_order_quantity
  if (isSet(limits.maxOrderQuantity)) {
    const max = parseDecimal(limits.maxOrderQuantity, "max_order_quantity");
    if (compareScaled({ coefficient: order.quantity * lot.coefficient, scale: lot.scale }, max) > 0) {
      return reject("max_order_quantity", `quantity ${quantity(order.quantity)} exceeds max_order_quantity ${show(max)}`);
    }
  }

  // 3. max_order_notional
  if (isSet(limits.maxOrderNotional)) {
    const max = parseDecimal(limits.maxOrderNotional, "max_order_notional");
    const valuedAt = order.price ?? input.lastTradePrice;
    if (valuedAt === undefined) {
      return reject("max_order_notional", `no last trade price to value a ${order.type} order against max_order_notional ${show(max)}`);
    }
    const notional = { coefficient: valuedAt * tick.coefficient * order.quantity * lot.coefficient, scale: tick.scale + lot.scale };
    if (compareScaled(notional, max) > 0) {
      const priceName = order.price === undefined ? "last trade price" : "price";
      return reject(
        "max_order_notional",
        `notional ${show(notional)} (${priceName} ${price(valuedAt)} × quantity ${quantity(order.quantity)}) exceeds max_order_notional ${show(max)}`,
      );
    }
  }

  // 4. max_position: only the side the order adds to; an order that reduces exposure always passes.
  if (isSet(limits.maxPosition)) {
    const max = parseDecimal(limits.maxPosition, "max_position");
    const worst =
      order.side === "buy"
        ? input.position + input.openBuyQuantity + order.quantity
        : input.position - input.openSellQuantity - order.quantity;
    const magnitude = worst < 0n ? -worst : worst;
    const beyond = (order.side === "buy" ? worst > 0n : worst < 0n) && compareScaled({ coefficient: magnitude * lot.coefficient, scale: lot.scale }, max) > 0;
    if (beyond) {
      const sum =
        order.side === "buy"
          ? `position ${quantity(input.position)} + open buys ${quantity(input.openBuyQuantity)} + quantity ${quantity(order.quantity)}`
          : `position ${quantity(input.position)} - open sells ${quantity(input.openSellQuantity)} - quantity ${quantity(order.quantity)}`;
      return reject("max_position", `worst-case position ${quantity(worst)} (${sum}) exceeds max_position ${show(max)}`);
    }
  }

  // 5. price_collar: limit and stop-limit prices only, and only once the instrument has traded.
  if (isSet(limits.priceCollarBps) && order.price !== undefined && input.lastTradePrice !== undefined) {
    const bps = BigInt(limits.priceCollarBps);
    const last = input.lastTradePrice;
    const distance = order.price > last ? order.price - last : last - order.price;
    if (distance * 10_000n > bps * last) {
      const low = ceilDiv(last * (10_000n - bps), 10_000n);
      const high = (last * (10_000n + bps)) / 10_000n;
      return reject(
        "price_collar",
        `price ${price(order.price)} is more than price_collar_bps ${limits.priceCollarBps} from last trade price ${price(last)}: allowed ${price(low > 0n ? low : 1n)} to ${price(high)}`,
      );
    }
  }

  // 6. orders_per_second: last, so that only orders every other rule admits are counted.
  if (isSet(limits.maxOrdersPerSecond)) {
    if (!rateLimiter) throw new Error("checkOrderRisk: max_orders_per_second is set but no OrderRateLimiter was given");
    const rate = rateLimiter.tryAdmit(input.accountId, limits.maxOrdersPerSecond);
    if (!rate.admitted) {
      return reject(
        "orders_per_second",
        `${rate.inWindow} orders in the last second reach max_orders_per_second ${limits.maxOrdersPerSecond}; retry in ${Math.ceil(rate.retryAfterMs)} ms`,
      );
    }
  }
  return admitted;
}

function reject(rule: RiskRule, message: string): RiskRejection {
  return { ok: false, rule, reason: RISK_REASONS[rule], message };
}

function isSet<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

function assertInput({ limits, order, openBuyQuantity, openSellQuantity, lastTradePrice }: RiskCheckInput): void {
  if (order.quantity <= 0n) throw new RangeError(`checkOrderRisk: quantity must be positive; got ${order.quantity} lots`);
  const priced = order.type === "limit" || order.type === "stop_limit";
  if (priced && (order.price === undefined || order.price <= 0n)) {
    throw new RangeError(`checkOrderRisk: a ${order.type} order needs a positive price; got ${order.price}`);
  }
  if (!priced && order.price !== undefined) throw new RangeError(`checkOrderRisk: a ${order.type} order has no limit price; got ${order.price}`);
  if (openBuyQuantity < 0n || openSellQuantity < 0n) {
    throw new RangeError(`checkOrderRisk: open quantities must not be negative; got buys ${openBuyQuantity}, sells ${openSellQuantity}`);
  }
  if (lastTradePrice !== undefined && lastTradePrice <= 0n) throw new RangeError(`checkOrderRisk: last trade price must be positive; got ${lastTradePrice}`);
  const bps = limits.priceCollarBps;
  if (isSet(bps) && !(Number.isInteger(bps) && bps >= 1 && bps <= 100_000)) {
    throw new RangeError(`price_collar_bps must be a whole number from 1 to 100000; got ${bps}`);
  }
  const rate = limits.maxOrdersPerSecond;
  if (isSet(rate) && !(Number.isSafeInteger(rate) && rate > 0)) throw new RangeError(`max_orders_per_second must be a positive whole number; got ${rate}`);
}

/** An exact decimal: coefficient × 10^-scale. */
interface Scaled {
  readonly coefficient: bigint;
  readonly scale: number;
}

/**
 * Parses a positive decimal exactly. `decimalsOf` validates the text (digits, one optional point,
 * greater than zero) and counts its decimals; the digits without the point are then the coefficient.
 */
function parseDecimal(value: string, name: string): Scaled {
  let scale: number;
  try {
    scale = decimalsOf(value);
  } catch {
    throw new RangeError(`${name} "${value}" must be a positive decimal like "10.5"`);
  }
  return { coefficient: BigInt(value.replace(".", "")), scale };
}

/** Sign of a - b, exactly. */
function compareScaled(a: Scaled, b: Scaled): number {
  const left = a.coefficient * 10n ** BigInt(b.scale);
  const right = b.coefficient * 10n ** BigInt(a.scale);
  return left === right ? 0 : left > right ? 1 : -1;
}

/** "12.5000" -> "12.5", "100.00" -> "100": the shortest exact form. */
function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

function show(value: Scaled): string {
  return trimZeros(formatScaled(value.coefficient, value.scale));
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  return quotient * denominator < numerator ? quotient + 1n : quotient;
}

/** The outcome of {@link OrderRateLimiter.tryAdmit}. */
export type RateDecision =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      /** Orders of the account admitted in the current window. */
      readonly inWindow: number;
      /** How long until one more order would be admitted, in ms. */
      readonly retryAfterMs: number;
    };

export interface OrderRateLimiterOptions {
  /** The current time in ms; it must not go backwards. Default `performance.now()`. */
  readonly now?: () => number;
  /** Length of the sliding window, in ms. Default 1000 (1 s). */
  readonly windowMs?: number;
}

/**
 * Admits at most `limit` orders per account in any sliding window of one second (exactly: an order
 * at time t is admitted when fewer than `limit` orders were admitted in (t - 1 s, t]). It keeps
 * only the times of the orders admitted within the window, so an account holds at most `limit`
 * live times (plus expired ones until its queue compacts), and an account idle for a whole window
 * holds nothing once {@link OrderRateLimiter.sweep} ran.
 *
 * Not thread-safe and not shared between replicas: each order-service process limits the orders
 * it receives, which is exact when an account's orders reach one process.
 */
export class OrderRateLimiter {
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly accounts = new Map<string, AdmittedTimes>();

  constructor(options: OrderRateLimiterOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.windowMs = options.windowMs ?? 1_000;
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be positive; got ${this.windowMs}`);
  }

  /**
   * Admits and records one order of `accountId` when fewer than `limit` were admitted in the
   * window; otherwise records nothing and says when to retry. A changed limit takes effect at once.
   */
  tryAdmit(accountId: string, limit: number): RateDecision {
    if (!(Number.isSafeInteger(limit) && limit > 0)) throw new RangeError(`limit must be a positive whole number; got ${limit}`);
    const now = this.now();
    let times = this.accounts.get(accountId);
    if (!times) {
      times = new AdmittedTimes();
      this.accounts.set(accountId, times);
    }
    times.expire(now - this.windowMs);
    if (times.count < limit) {
      times.push(now);
      return { admitted: true };
    }
    // The (count - limit + 1) oldest must leave the window before one more fits.
    const freesAt = times.at(times.count - limit) + this.windowMs;
    return { admitted: false, inWindow: times.count, retryAfterMs: Math.max(0, freesAt - now) };
  }

  /** Orders of `accountId` admitted in the current window. */
  countInWindow(accountId: string): number {
    const times = this.accounts.get(accountId);
    if (!times) return 0;
    times.expire(this.now() - this.windowMs);
    return times.count;
  }

  /** Forgets one account (it was closed, say); returns whether it was known. */
  forget(accountId: string): boolean {
    return this.accounts.delete(accountId);
  }

  /**
   * Forgets every account with no order in the current window, which changes no future decision;
   * returns how many were forgotten. Call it on a timer (every few seconds) so memory follows the
   * accounts active in the last second, not every account ever seen.
   */
  sweep(): number {
    const cutoff = this.now() - this.windowMs;
    let forgotten = 0;
    for (const [accountId, times] of this.accounts) {
      times.expire(cutoff);
      if (times.count === 0) {
        this.accounts.delete(accountId);
        forgotten += 1;
      }
    }
    return forgotten;
  }

  /** Accounts currently remembered. */
  get size(): number {
    return this.accounts.size;
  }
}

/** Admission times of one account, oldest first: a queue that compacts as it drains. */
class AdmittedTimes {
  private times: number[] = [];
  private head = 0;

  get count(): number {
    return this.times.length - this.head;
  }

  /** The i-th oldest time still held. */
  at(index: number): number {
    return this.times[this.head + index] ?? Number.NaN;
  }

  push(time: number): void {
    this.times.push(time);
  }

  /** Drops every time at or before `cutoff`. */
  expire(cutoff: number): void {
    while (this.head < this.times.length && (this.times[this.head] ?? Infinity) <= cutoff) this.head += 1;
    if (this.head > 0 && this.head * 2 >= this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}
